from __future__ import annotations

from pathlib import Path

import pytest

from claude_proxy.settings import config_file_path, load_settings


def test_defaults() -> None:
    settings = load_settings()
    assert (settings.host, settings.port, settings.preferred_provider) == (
        "127.0.0.1",
        8082,
        "openai",
    )
    assert settings.big_model is None and settings.small_model is None
    assert settings.together_model == "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"


def test_precedence_flag_over_env_over_dotenv_over_config_file_over_default(
    monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> None:
    config = config_file_path()
    config.write_text(
        'port = 9001\nbig_model = "from-config"\nsmall_model = "from-config"\nhost = "127.0.0.2"\n'
    )
    assert load_settings().port == 9001

    (isolated_settings / ".env").write_text("PORT=9002\nBIG_MODEL=from-dotenv\n")
    settings = load_settings()
    assert (settings.port, settings.big_model, settings.small_model, settings.host) == (
        9002,
        "from-dotenv",
        "from-config",
        "127.0.0.2",
    )

    monkeypatch.setenv("PORT", "9003")
    assert load_settings().port == 9003

    assert load_settings({"port": 9004, "host": None}).port == 9004
    assert (
        load_settings({"port": 9004, "host": None}).host == "127.0.0.2"
    )  # None means "flag not given"


def test_config_file_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLAUDE_PROXY_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_file_path() == tmp_path / "xdg" / "claude-proxy" / "config.toml"
    monkeypatch.setenv("CLAUDE_PROXY_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert config_file_path() == tmp_path / "elsewhere.toml"


@pytest.mark.parametrize("name", ["TOGETHERAI_API_KEY", "TOGETHER_API_KEY", "TOGETHER_AI_API_KEY"])
def test_every_together_key_name_works(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "tg-secret")
    key = load_settings().togetherai_api_key
    assert key is not None and key.get_secret_value() == "tg-secret"


def test_togetherai_name_wins_when_several_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "second")
    monkeypatch.setenv("TOGETHERAI_API_KEY", "first")
    key = load_settings().togetherai_api_key
    assert key is not None and key.get_secret_value() == "first"


def test_base_url_aliases_and_anthropic_base_url_is_never_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:8082")
    settings = load_settings()
    assert settings.openai_api_base == "http://127.0.0.1:11434/v1"
    assert settings.anthropic_api_base is None


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-value")
    settings = load_settings()
    assert "sk-very-secret-value" not in repr(settings)
    assert "sk-very-secret-value" not in str(settings.model_dump())


def test_provider_is_case_insensitive_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFERRED_PROVIDER", "Google")
    assert load_settings().preferred_provider == "google"
    monkeypatch.setenv("PREFERRED_PROVIDER", "azure")
    with pytest.raises(ValueError, match="preferred_provider"):
        load_settings()


@pytest.mark.parametrize(("written", "meant"), [("gemini", "google"), ("Together_AI", "together")])
def test_provider_names_as_users_write_them_in_every_layer(
    monkeypatch: pytest.MonkeyPatch, isolated_settings: Path, written: str, meant: str
) -> None:
    assert load_settings({"preferred_provider": written}).preferred_provider == meant
    monkeypatch.setenv("PREFERRED_PROVIDER", written)
    assert load_settings().preferred_provider == meant
    monkeypatch.delenv("PREFERRED_PROVIDER")
    (isolated_settings / ".env").write_text(f"PREFERRED_PROVIDER={written}\n")
    assert load_settings().preferred_provider == meant
    (isolated_settings / ".env").unlink()
    config_file_path().write_text(f'preferred_provider = "{written}"\n')
    assert load_settings().preferred_provider == meant


def test_a_wrong_provider_says_did_you_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFERRED_PROVIDER", "gemnii")
    with pytest.raises(ValueError, match="did you mean google"):
        load_settings()


def test_secret_values_are_every_key_and_token_set() -> None:
    settings = load_settings(
        {"openai_api_key": "sk-one", "proxy_auth_token": "tok-two", "gemini_api_key": ""},
        env_file=None,
    )
    assert sorted(settings.secret_values()) == ["sk-one", "tok-two"]


def test_data_dir_defaults_to_the_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert load_settings(env_file=None).data_path() == tmp_path / "data" / "claude-proxy"
    chosen = load_settings({"data_dir": str(tmp_path / "mine")}, env_file=None)
    assert chosen.data_path() == tmp_path / "mine"


def test_a_prompt_cache_key_goes_to_openai_itself_unless_told() -> None:
    assert load_settings(env_file=None).sends_prompt_cache_key() is True
    based = {"openai_api_base": "http://127.0.0.1:9/v1"}
    assert load_settings(based, env_file=None).sends_prompt_cache_key() is False
    told = {**based, "openai_prompt_cache_key": True}
    assert load_settings(told, env_file=None).sends_prompt_cache_key() is True
    assert (
        load_settings({"openai_prompt_cache_key": False}, env_file=None).sends_prompt_cache_key()
        is False
    )
