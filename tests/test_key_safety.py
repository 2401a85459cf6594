"""The API key leaves only in the Authorization header (issue 11, B).

For each way a key leaks (a server echoing it in the message, the type, a header, JSON-escaped,
`\\u`-escaped, percent-encoded, mid-stream; a pasted trailing newline; a zero-width space),
the key appears nowhere: not in the exception's str/repr/vars, the `%%kimi` cell's output, the
logs of httpx, httpcore and kimi_jupyter at DEBUG, any repr or pickle, the widget state, or
the notebook `%kimi save` writes. "Appears" means whole, escaped or encoded, or any piece of
12 characters or more (`_redact.FRAGMENT`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import pickle
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import comm
import httpx
import pytest
from comm.base_comm import BaseComm
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from IPython.utils.capture import capture_output

from kimi_jupyter import Chat, errors
from kimi_jupyter._redact import FRAGMENT, redact
from kimi_jupyter.client import KimiClient
from kimi_jupyter.config import Secret, Settings
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.simulator import Simulator

from helpers import sse

# '/' and '+' change under JSON escaping and percent-encoding: every form differs.
KEY = "sk-Kimi/Test+Key_0123456789abcdefXYZ"
ZERO_WIDTH_KEY = KEY[:9] + "\u200b" + KEY[9:]
BASE = "https://kimi.test/v1"


def forms(key: str = KEY) -> dict[str, str]:
    """Every shape of the key a reader could recognise, and every long piece of it."""
    shapes = {
        "whole": key,
        "json": json.dumps(key)[1:-1].replace("/", "\\/"),
        "unicode": "".join(f"\\u{ord(c):04x}" for c in key),
        "percent": urllib.parse.quote(key, safe=""),
    }
    for start in range(len(key) - FRAGMENT + 1):
        shapes[f"piece {start}"] = key[start : start + FRAGMENT]
    return shapes


def assert_hidden(*texts: str) -> None:
    for text in texts:
        for name, shape in forms().items():
            assert shape not in text, f"the key ({name}) shows in: {text[:300]!r}"


def _ok(request: httpx.Request) -> httpx.Response:
    chunk = {"choices": [{"index": 0, "delta": {"content": "fine"}, "finish_reason": "stop"}]}
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(chunk))


def _error(status: int, **body: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json={"error": body})


def _text(status: int, text: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, text=text)


def _mid_stream(request: httpx.Request) -> httpx.Response:
    started = {"choices": [{"index": 0, "delta": {"content": "Half an an"}}]}
    failed = {"error": {"message": f"upstream rejected Bearer {KEY}", "type": "server_error"}}
    body = sse(started, failed, done=False)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


LEAKS: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "in the message": _error(401, message=f"Incorrect API key provided: {KEY}", type="x"),
    "in the type": _error(401, message="Invalid Authentication", type=f"bad_key:{KEY}"),
    "in a header": lambda request: httpx.Response(
        401,
        json={"error": {"message": "Invalid Authentication", "type": "auth"}},
        headers={"Msh-Request-Id": KEY, "X-Request-Id": KEY},
    ),
    "JSON-escaped": _error(
        400, message="upstream said " + json.dumps({"auth": KEY}).replace("/", "\\/"), type="x"
    ),
    "unicode-escaped": _text(502, "gateway: bad key " + forms()["unicode"]),
    "percent-encoded": _error(403, message=f"see /login?key={forms()['percent']}", type="x"),
    "half the key": _text(500, f"key {KEY[:20]}… refused"),
    "mid-stream": _mid_stream,
}


def transport(leak: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    """Answers "ok" questions, leaks on every other; refuses any other key, like a server."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] != f"Bearer {KEY}":
            return httpx.Response(401, json={"error": {"message": "Invalid Authentication"}})
        asked = json.loads(request.content)["messages"][-1]["content"]
        return _ok(request) if asked == "ok" else leak(request)

    return httpx.MockTransport(handle)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "kimi_jupyter"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def shown(value: object) -> list[str]:
    """Every way an object may be rendered: str, repr, vars, and a pickle (if it pickles)."""
    texts = [str(value), repr(value), repr(getattr(value, "__dict__", ""))]
    with contextlib.suppress(TypeError, AttributeError, pickle.PicklingError):  # refusing is
        texts.append(pickle.dumps(value).decode("latin-1"))  # one of the two allowed answers
    return texts


# --- the Python API ------------------------------------------------------------------------


@pytest.mark.parametrize("leak", LEAKS, ids=list(LEAKS))
def test_an_echoed_key_is_masked_everywhere_in_the_api(
    leak: str, debug_logs: pytest.LogCaptureFixture, no_kimi_env: None
) -> None:
    chat = Chat("t", sessions=Sessions(), api_key=KEY, base_url=BASE, max_attempts=1,
                transport=transport(LEAKS[leak]))  # fmt: skip
    assert chat.ask("ok").answer == "fine"
    with pytest.raises(errors.KimiError) as info:
        chat.ask("leak")
    error = info.value
    assert "\n" not in str(error)
    assert "***" in str(error) or leak == "in a header"
    texts = [str(error), repr(error), repr(vars(error)), debug_logs.text]
    texts += [json.dumps(turn.to_json()) for turn in chat.turns]
    texts += shown(chat.settings) + shown(chat._get_client())
    assert_hidden(*texts)


def test_the_holders_never_show_the_key() -> None:
    settings = Settings(api_key=KEY, base_url=BASE)
    client = KimiClient(settings)
    key = settings.api_key
    assert key is not None
    assert not hasattr(key, "__dict__")  # no vars() to look into
    slots = [repr(getattr(key, name)) for name in ("_masked", "_pad", "_source")]
    noise = [str(vars(settings)), *shown(settings), *shown(client), *shown(key), *slots]
    noise += [repr(copy.deepcopy(settings)), repr(copy.copy(key))]
    assert_hidden(*noise)
    for holder in (settings, client, key):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(holder)
    assert copy.deepcopy(settings) == settings
    assert key.reveal() == KEY


def test_a_chat_given_the_key_keeps_it_in_its_settings_only(no_kimi_env: None) -> None:
    chat = Chat("t", sessions=Sessions(), api_key=KEY, base_url=BASE)
    assert_hidden(*shown(chat), repr(vars(chat)))


def test_a_trailing_newline_or_space_is_dropped(
    debug_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pasted in (f"{KEY}\n", f"  {KEY} \r\n", f"\t{KEY}"):
        monkeypatch.setenv("KIMI_API_KEY", pasted)
        chat = Chat("t", sessions=Sessions(), base_url=BASE, transport=transport(_ok))
        assert chat.ask("ok").answer == "fine"
        assert_hidden(*shown(chat.settings))
    assert Settings(api_key=f"{KEY}\n").require_key() == KEY
    assert Settings(api_key=" \n").api_key is None  # blank: no key, which says so
    assert_hidden(debug_logs.text)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (ZERO_WIDTH_KEY, "zero width space (U+200B) at character 10 of 37"),
        (KEY[:5] + "\x1b" + KEY[5:], "control character (U+001B) at character 6 of 37"),
        (KEY[:5] + " " + KEY[5:], "space at character 6 of 37"),
        (KEY[:5] + "é" + KEY[5:], "latin small letter e with acute (U+00E9)"),
    ],
)
def test_a_key_that_cannot_be_a_header_is_refused_in_one_line(
    key: str, problem: str, debug_logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMI_API_KEY", key)
    recorder = transport(_ok)
    chat = Chat("t", sessions=Sessions(), base_url=BASE, transport=recorder)
    with pytest.raises(errors.ConfigurationError, match="KIMI_API_KEY") as info:
        chat.ask("ok")
    message = str(info.value)
    assert problem in message
    assert "\n" not in message
    assert chat.session.exchanges == []
    assert_hidden(message, repr(info.value), debug_logs.text, *shown(chat.settings))


def test_echoed_in_every_form_over_retries_the_logs_stay_clean(
    debug_logs: pytest.LogCaptureFixture, no_kimi_env: None
) -> None:
    """Real sockets, so httpcore logs the response headers (one of them echoes the key)."""
    with Simulator(api_key=KEY) as sim:
        chat = Chat("t", sessions=Sessions(), api_key=KEY, base_url=sim.base_url)
        before = len(sim.requests)
        with pytest.raises(errors.ServerError) as info:
            chat.ask("[[sim: fault=503:echo-key retry_after=0]]")
        assert len(sim.requests) - before == 4  # retried: every attempt echoed the key
    assert "receive_response_headers" in debug_logs.text  # httpcore did log the headers
    assert "Msh-Request-Id" in debug_logs.text
    assert str(info.value).count("***") >= 4
    assert_hidden(str(info.value), repr(info.value), repr(vars(info.value)), debug_logs.text)


# --- a %%kimi cell, its output and the saved notebook -----------------------------------------


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., InteractiveShell]]:
    """A shell whose kernel talks to the given transport, with the key in KIMI_API_KEY."""
    loaded: list[InteractiveShell] = []

    def make(seam: httpx.BaseTransport, key: str = KEY) -> InteractiveShell:
        for name in ("MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_MODEL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("KIMI_API_KEY", key)
        monkeypatch.setenv("KIMI_BASE_URL", BASE)
        monkeypatch.setenv("KIMI_MAX_RETRY_WAIT", "0.1")  # a 5xx is shown at once
        monkeypatch.setattr(KernelContext, "_current", KernelContext(transport=seam))
        start_ipython()
        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "kimi_jupyter")
        ip.run_line_magic("config", "KimiMagics.model = None")
        ip.run_line_magic("config", "KimiMagics.view = 'text'")
        loaded.append(ip)
        return ip

    yield make
    for ip in loaded:
        ip.run_line_magic("config", "KimiMagics.view = 'auto'")
        ip.run_line_magic("unload_ext", "kimi_jupyter")


def run(ip: InteractiveShell, cell: str) -> tuple[str, BaseException | None]:
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return captured.stdout + captured.stderr, result.error_in_exec


@pytest.mark.parametrize("leak", LEAKS, ids=list(LEAKS))
def test_an_echoed_key_is_masked_in_the_cell_and_the_saved_notebook(
    leak: str,
    shell: Callable[..., InteractiveShell],
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    ip = shell(transport(LEAKS[leak]))
    assert "fine" in run(ip, "%%kimi\nok")[0]
    output, error = run(ip, "%%kimi\nleak")
    assert isinstance(error, UsageError)
    assert f"UsageError: {error}" in output
    assert "Traceback" not in output
    saved, _ = run(ip, f"%kimi save {tmp_path / 'session.ipynb'}")
    notebook = (tmp_path / "session.ipynb").read_text(encoding="utf-8")
    magics = ip.magics_manager.registry["KimiMagics"]
    assert_hidden(output, str(error), saved, notebook, debug_logs.text, *shown(magics._get_chat()))
    if leak == "mid-stream":  # the partial answer and its (masked) error were saved
        assert "Half an an" in notebook
        assert "upstream rejected Bearer ***" in notebook


@pytest.mark.parametrize("pasted", [f"{KEY}\n", ZERO_WIDTH_KEY], ids=["newline", "zero-width"])
def test_a_pasted_key_in_a_cell(
    pasted: str,
    shell: Callable[..., InteractiveShell],
    debug_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    ip = shell(transport(_ok), key=pasted)
    output, error = run(ip, "%%kimi\nok")
    if pasted.strip() == KEY:
        assert error is None
        assert "fine" in output
    else:
        assert isinstance(error, UsageError)
        assert "zero width space (U+200B)" in output
        assert "Traceback" not in output
    saved, _ = run(ip, f"%kimi save {tmp_path / 'session.ipynb'}")
    notebook = tmp_path / "session.ipynb"
    written = notebook.read_text(encoding="utf-8") if notebook.exists() else ""
    magics = ip.magics_manager.registry["KimiMagics"]
    chat = magics._get_chat()
    assert_hidden(output, saved, written, debug_logs.text, *shown(chat), *shown(chat.settings))


class _Wire(BaseComm):
    """A comm that keeps every message a frontend would get."""

    sent: ClassVar[list[str]] = []

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        _Wire.sent.append(json.dumps(data, ensure_ascii=False, default=str))


def test_the_chat_widget_state_never_holds_the_key(
    monkeypatch: pytest.MonkeyPatch, no_kimi_env: None
) -> None:
    from kimi_jupyter.chat_widget import ChatWidget

    monkeypatch.setattr(comm, "create_comm", _Wire)
    monkeypatch.setenv("JPY_SESSION_NAME", "w.ipynb")  # a frontend: the chat opens its widgets
    _Wire.sent = []
    chat = Chat("w", sessions=Sessions(), api_key=KEY, base_url=BASE,
                transport=transport(LEAKS["in the message"]))  # fmt: skip
    widget = ChatWidget("w", chat=chat)
    widget.send("ok")
    widget.send("leak")
    assert any("***" in message for message in _Wire.sent)  # the error was shown, masked
    assert_hidden(*_Wire.sent)
    widget.close()


# --- redaction itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        KEY,
        json.dumps({"k": KEY}),
        json.dumps({"k": KEY}).replace("/", "\\/"),
        json.dumps(json.dumps({"k": KEY})),  # escaped twice
        forms()["unicode"],
        forms()["unicode"].upper().replace("\\U", "\\u"),
        forms()["percent"],
        forms()["percent"].lower(),
        "&#115;&#x6b;" + KEY[2:],
        KEY[:FRAGMENT],
        KEY[-FRAGMENT:],
        KEY[:7] + "\\/" + KEY[8:],  # mixed forms
    ],
)
def test_redact_finds_every_form(text: str) -> None:
    masked = redact(f"before {text} after", KEY)
    assert masked.startswith("before ")
    assert masked.endswith(" after")
    assert "***" in masked
    assert_hidden(masked)


def test_redact_leaves_ordinary_text_and_short_hints_alone() -> None:
    hint = f"key {KEY[:6]}…{KEY[-4:]} is wrong; the Kimi simulator says hi"
    assert redact(hint, KEY) == hint
    assert redact("a password", "pass") == "a password"  # too short to be a real key
    assert redact("sk-simulator it is", "sk-simulator") == "*** it is"


def test_secret_equality_and_hash_do_not_need_the_text() -> None:
    assert Secret(KEY) == Secret(f" {KEY}\n")
    assert hash(Secret(KEY)) == hash(Secret(KEY))
    assert Secret(KEY) != Secret(KEY + "x")
    assert f"{Secret(KEY)}" == str(Secret(KEY)) == "Secret('********')"
