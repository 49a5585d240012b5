"""`claude-proxy serve`: the proxy in the foreground, with a banner that says where it listens
and which model serves each alias; `--reload` restarts it when the source changes."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Annotated

import typer

from claude_proxy import __version__
from claude_proxy.cli.options import (
    SERVE_OPTIONS,
    BigModel,
    Host,
    LogLevel,
    PreserveOpenAINewlines,
    ProcessNewlines,
    Provider,
    RecordDir,
    ServePort,
    SmallModel,
    Workers,
    option,
    serve_args,
    settings_from,
)
from claude_proxy.errors import CommandError

if TYPE_CHECKING:
    from collections.abc import Callable

    from claude_proxy.server.restart import Handover
    from claude_proxy.settings import Settings


def serve(
    ctx: typer.Context,
    host: Host = None,
    port: ServePort = None,
    workers: Workers = None,
    preferred_provider: Provider = None,
    big_model: BigModel = None,
    small_model: SmallModel = None,
    log_level: LogLevel = None,
    process_newlines: ProcessNewlines = None,
    preserve_openai_newlines: PreserveOpenAINewlines = None,
    record_dir: RecordDir = None,
    reload: Annotated[
        bool, option("--reload", "Restart when the package's source changes.")
    ] = False,
    debug_rich: Annotated[
        bool, option("--debug-rich", "One rich line per request: models, tokens, cost, latency.")
    ] = False,
    lifeline: Annotated[
        int | None, option("--lifeline", "Stop when this pipe closes (for `run`).", hidden=True)
    ] = None,
) -> None:
    """Run the proxy in the foreground."""
    from claude_proxy.server.restart import take_handover

    handover = take_handover()  # set when this process restarted itself in place
    overrides = {field: ctx.params[field] for field in SERVE_OPTIONS}
    settings = settings_from(overrides)
    refuse_an_open_door(settings)
    if lifeline is not None:
        stop_when_closed(lifeline)

    def unchanged() -> bool:
        try:
            return settings_from(overrides) == settings
        except CommandError:
            return False

    try:
        from claude_proxy.cli.local_proxy import check_bindable

        if handover is None:  # a handover brings the port, bound
            check_bindable(settings.host, settings.port)  # before the banner says "listening"
        if reload:
            from claude_proxy.cli.reload import serve_with_reload

            serve_with_reload(serve_args(overrides) + (["--debug-rich"] if debug_rich else []))
            return
        from claude_proxy.cli.reload import in_reloaded_child, restore_interrupt

        if in_reloaded_child():
            restore_interrupt()
        restart = asyncio.run(
            _serve(settings, debug_rich=debug_rich, handover=handover, unchanged=unchanged)
        )
        if restart is not None:
            from claude_proxy.server.restart import restart_in_place

            try:
                restart_in_place(restart)  # returns only if the exec failed
            except OSError as exc:
                logging.getLogger(__name__).warning(
                    "cannot restart in place (%s); serving on in this process, without restarts",
                    exc,
                )
                asyncio.run(_serve(settings, debug_rich=debug_rich, handover=restart))
        if settings.workers > 1:
            from claude_proxy.server.workers import serve_workers

            serve_workers(settings, settings.workers)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            "Is another claude-proxy running there (`claude-proxy doctor` says)? "
            "Pick another port with --port or PORT.",
        ) from None


async def _serve(
    settings: Settings,
    *,
    debug_rich: bool,
    handover: Handover | None,
    unchanged: Callable[[], bool] | None = None,
) -> Handover | None:
    """Serve; the handover to restart in place with, when one is due (`server/restart.py`).
    Without `unchanged` (whether the configuration is still the one running) none is."""
    from claude_proxy.cli.console import print_banner, print_request, setup_logging
    from claude_proxy.cli.local_proxy import base_url, loopback
    from claude_proxy.cli.models import alias_rows
    from claude_proxy.server.app import create_app, run_server, start_engines
    from claude_proxy.server.request_log import RequestLog

    def report(log: RequestLog) -> None:
        print_request(log, log.cost)  # LiteLLM's prices, read without importing it

    setup_logging(settings.log_level, report if debug_rich else None)
    upstream = await start_engines(settings)
    if handover is not None:
        if handover.litellm:
            await upstream.load_litellm()
        if unchanged is not None:  # not after a failed exec
            from claude_proxy.server.memory_watch import current_rss

            logging.getLogger(__name__).info(handover.note(current_rss()))
        return await run_server(
            settings,
            create_app(settings, upstream=upstream),
            handover=handover,
            unchanged=unchanged,
        )
    rows = alias_rows(settings, upstream)
    warnings = startup_warnings(settings, {row.provider for row in rows})
    url = base_url(loopback(settings.host), settings.port)
    print_banner(
        url,
        settings.preferred_provider,
        rows,
        warnings,
        __version__,
        token_set=settings.proxy_auth_token is not None,
    )
    if settings.workers > 1:
        return None  # the workers serve; `serve` runs them once this returns
    return await run_server(settings, create_app(settings, upstream=upstream), unchanged=unchanged)


def stop_when_closed(lifeline: int) -> None:
    """SIGTERM to this process (a graceful stop) once the pipe's write end is closed: the
    launcher that holds it has ended, however it ended."""
    import os
    import signal
    import threading

    os.set_inheritable(lifeline, True)  # a restart in place keeps watching it

    def watch() -> None:
        while os.read(lifeline, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def refuse_an_open_door(settings: Settings) -> None:
    """Anyone who reaches a non-loopback address could spend the keys behind the proxy:
    binding one needs PROXY_AUTH_TOKEN."""
    from claude_proxy.server.access import is_loopback_host

    if not is_loopback_host(settings.host) and settings.proxy_auth_token is None:
        raise CommandError(
            f"refusing to listen on {settings.host} without PROXY_AUTH_TOKEN: anyone who can "
            "reach it could spend your provider keys",
            "Set a token (`claude-proxy config set proxy_auth_token`, or PROXY_AUTH_TOKEN in the "
            "environment) and give it to clients as their API key; or bind 127.0.0.1.",
            exit_code=2,
        )


def startup_warnings(settings: Settings, providers: set[str]) -> list[str]:
    """What the banner warns about: unknown config-file keys, an exposed address, providers
    without a key."""
    from claude_proxy.providers import provider_for
    from claude_proxy.server.access import is_loopback_host
    from claude_proxy.settings.sources import config_file_warnings

    warnings = config_file_warnings()
    if settings.record_dir is not None:
        warnings.append(
            f"recording every exchange to {settings.record_dir}: prompts and answers are "
            "written there (keys removed); `claude-proxy replay` replays them."
        )
    if not is_loopback_host(settings.host):
        warnings.append(
            f"binding {settings.host} exposes this proxy to your network; clients need "
            "PROXY_AUTH_TOKEN as their key."
        )
    for provider in sorted(providers):
        info = provider_for(provider)
        if (
            info is not None
            and getattr(settings, info.key_field) is None
            and getattr(settings, info.base_field) is None
        ):
            warnings.append(info.missing_key().replace("No key", "no key", 1))
    return warnings
