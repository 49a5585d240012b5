"""claude-proxy: the Anthropic Messages API, served by OpenAI, Gemini, Together or any LiteLLM model."""

__version__ = "0.1.0"
