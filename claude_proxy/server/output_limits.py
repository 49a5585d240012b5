"""The output limits upstreams taught this process: a model's most output tokens, learned
from its refusal of a too large max_tokens, applied to its later requests.

Only a model's own limit is kept (`MaxTokensTooLargeError.per_model`); what a context window
leaves for one prompt changes with the next. The table is per process and bounded: a model
the map already knows never lands here twice, and a bad actor naming endless local models
cannot grow it past `MAX_MODELS`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict

from claude_proxy.translate.target import Target

logger = logging.getLogger(__name__)

MAX_MODELS = 256


class OutputLimits:
    def __init__(self, max_models: int = MAX_MODELS) -> None:
        self._limits: OrderedDict[str, int] = OrderedDict()
        self._max_models = max_models

    def learn(self, model: str, tokens: int) -> None:
        logger.info("%s takes at most %d output tokens (the upstream said so)", model, tokens)
        self.restore({model: tokens})

    def limit(self, model: str) -> int | None:
        return self._limits.get(model)

    def items(self) -> dict[str, int]:
        """Model -> limit, oldest first."""
        return dict(self._limits)

    def restore(self, items: dict[str, int]) -> None:
        for model, tokens in items.items():
            self._limits[model] = tokens
            self._limits.move_to_end(model)
        while len(self._limits) > self._max_models:
            self._limits.popitem(last=False)

    def applied(self, target: Target) -> Target:
        """`target` with its output limit lowered to the learned one, when there is one."""
        learned = self._limits.get(target.model)
        known = target.max_output_tokens
        if learned is None or (known is not None and known <= learned):
            return target
        return dataclasses.replace(target, max_output_tokens=learned)
