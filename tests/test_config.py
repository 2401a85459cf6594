"""Settings: environment vs explicit values, and the key that never shows."""

from __future__ import annotations

import logging
import pickle

import httpx
import pytest

from kimi_jupyter import Chat, errors
from kimi_jupyter.config import DEFAULT_BASE_URL, Secret, Settings

from helpers import SECRET, Recorder, make_client, sse, stream_response


def test_defaults(no_kimi_env: None) -> None:
    settings = Settings.from_env()
    assert settings.base_url == DEFAULT_BASE_URL == "https://www.anyfast.ai/v1"
    assert settings.model == "kimi-k2.6"
    assert settings.api_key is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KIMI_API_KEY": "a", "MOONSHOT_API_KEY": "b", "ANYFAST_API_KEY": "c"}, "a"),
        ({"MOONSHOT_API_KEY": "b", "ANYFAST_API_KEY": "c"}, "b"),
        ({"ANYFAST_API_KEY": "c"}, "c"),
        ({"KIMI_API_KEY": "", "ANYFAST_API_KEY": "c"}, "c"),
    ],
)
def test_key_fallback_order(env: dict[str, str], expected: str) -> None:
    assert Settings.from_env(env).require_key() == expected


def test_explicit_beats_environment() -> None:
    env = {"KIMI_API_KEY": "env-key", "KIMI_BASE_URL": "http://env/v1/", "KIMI_MODEL": "env-model"}
    settings = Settings.from_env(env, api_key="explicit", model="kimi-k2.6", base_url=None)
    assert settings.require_key() == "explicit"
    assert settings.model == "kimi-k2.6"
    assert settings.base_url == "http://env/v1"  # None means "not set"; trailing slash dropped


def test_missing_key_is_one_clear_error_naming_the_variables() -> None:
    with pytest.raises(errors.ConfigurationError) as info:
        Settings.from_env({}).require_key()
    message = str(info.value)
    assert "\n" not in message
    for name in ("KIMI_API_KEY", "MOONSHOT_API_KEY", "ANYFAST_API_KEY"):
        assert name in message


def test_missing_key_surfaces_from_a_request_without_any_http(no_kimi_env: None) -> None:
    recorder = Recorder(stream_response(sse({"choices": []})))
    client = make_client(recorder, api_key=None)
    with pytest.raises(errors.ConfigurationError, match="KIMI_API_KEY"):
        list(client.stream({"model": "kimi-k2.6", "messages": []}))
    assert recorder.requests == []


@pytest.mark.parametrize("bad", [{"base_url": "ftp://x"}, {"max_attempts": 0}, {"read_timeout": 0}])
def test_invalid_settings(bad: dict[str, object]) -> None:
    with pytest.raises(errors.ConfigurationError):
        Settings.from_env({}, **bad)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(errors.ConfigurationError, match="api_kee"):
        Settings.from_env({}, api_kee="x")


def test_key_never_in_repr_str_format_or_pickle() -> None:
    settings = Settings.from_env({"KIMI_API_KEY": SECRET})
    client = make_client(Recorder(stream_response(b"")))
    chat = Chat(api_key=SECRET, base_url="http://127.0.0.1:9/v1")
    shown = [
        repr(settings),
        str(settings),
        f"{settings.api_key}",
        str(settings.api_key),
        repr(client),
        repr(chat),
        f"{settings!r}",
    ]
    assert all(SECRET not in text for text in shown)
    with pytest.raises(TypeError):
        pickle.dumps(settings.api_key)
    assert settings.api_key == Secret(SECRET)


def test_key_never_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {
        "error": {
            "message": f"Incorrect API key provided: {SECRET}",
            "type": "incorrect_api_key_error",
        }
    }

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}")

    for handler in (Recorder(httpx.Response(401, json=echo)), Recorder(refuse)):
        with pytest.raises(errors.KimiError) as info:
            list(make_client(handler, max_attempts=1).stream({"model": "m", "messages": []}))
        texts = [str(info.value), repr(info.value), str(info.value.__cause__ or "")]
        assert not any(SECRET in text for text in texts[:2])
    assert SECRET not in caplog.text
