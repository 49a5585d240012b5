"""The pure translation core: Anthropic Messages <-> OpenAI chat-completions dicts.

Nothing in this package does I/O, imports aiohttp or litellm, reads settings or awaits.
"""
