"""The one Chrome that kaleido draws Plotly figures in, started once and kept for the kernel.

Starting the browser costs seconds; a figure in a running one about 0.2 s. kaleido's own
`start_sync_server` would keep it too, but when the browser fails to start its thread
dies and every later call waits forever. So the browser runs here, on an event loop in a
daemon thread of our own: a failed start or a stuck render is one `ContextError` within a
deadline, a browser that died is replaced by a fresh one, and the browser is closed when
the kernel exits. MathJax is off: kaleido would fetch it from a CDN on every start.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import Any, ClassVar

from kimi_jupyter.errors import ContextError

from ._common import clip

START_SECONDS = 60.0
RENDER_SECONDS = 60.0
_SAID_CHARS = 200
_TOPOJSON_HINT = (
    "maps load their outlines (topojson) from the network; offline, point "
    "plotly.io.defaults.topojson at a local copy"
)
_log = logging.getLogger("kimi_jupyter")


class Browser:
    """A running kaleido (one Chrome tab) and the event loop it lives on."""

    _shared: ClassVar[Browser | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _exit_hook: ClassVar[bool] = False

    def __init__(self, chrome: str) -> None:
        self.chrome = chrome
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(_loop_said)
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kimi-kaleido", daemon=True
        )
        self._thread.start()
        try:
            self._kaleido = self._call(self._open(), START_SECONDS)
        except BaseException:
            self._stop_loop()
            raise

    @classmethod
    def draw(
        cls, chrome: str, fig: dict[str, Any], opts: dict[str, Any], topojson: str | None, who: str
    ) -> bytes:
        """`fig` as PNG bytes, drawn in the shared browser (started here if needed). A
        browser that died since the last figure is replaced once, unnoticed."""
        from kaleido import errors

        retried = False
        with cls._lock:
            while True:
                browser = cls._browser(chrome, who)
                try:
                    rendering = browser._kaleido.calc_fig(fig, opts, topojson=topojson)
                    return bytes(browser._call(rendering, RENDER_SECONDS + 5))
                except (errors.KaleidoError, errors.JavascriptError) as exc:
                    said = _said(exc)  # the figure's fault: the browser stays
                    if "topojson" in said:
                        said += f"; {_TOPOJSON_HINT}"
                    raise ContextError(f"{who}: Plotly could not draw the figure: {said}") from None
                # The browser died or hung (choreographer raises OSError, RuntimeError and
                # Exception subclasses of its own): drop it, and try once in a new one.
                except Exception as exc:  # noqa: BLE001
                    cls._shared = None
                    browser.close()
                    if retried or isinstance(exc, TimeoutError):
                        said = _said(exc)
                        raise ContextError(
                            f"{who}: the browser drawing Plotly figures failed ({said})"
                        ) from None
                    retried = True

    @classmethod
    def close_shared(cls) -> None:
        """Close the shared browser, if one runs (at exit; tests)."""
        with cls._lock:
            browser, cls._shared = cls._shared, None
        if browser is not None:
            browser.close()

    @classmethod
    def _browser(cls, chrome: str, who: str) -> Browser:
        """The shared browser, started (or replaced, if `chrome` changed) as needed."""
        browser = cls._shared
        if browser is not None and browser.chrome == chrome:
            return browser
        if browser is not None:
            browser.close()
        cls._shared = None
        cls._shared = cls._start(chrome, who)
        return cls._shared

    @classmethod
    def _start(cls, chrome: str, who: str) -> Browser:
        if not cls._exit_hook:
            atexit.register(cls.close_shared)
            cls._exit_hook = True
        try:
            return cls(chrome)
        except Exception as exc:  # noqa: BLE001 - whatever stopped the browser, one line
            raise ContextError(
                f"{who}: the browser at {chrome} did not start to draw the Plotly figure "
                f"({_said(exc)})"
            ) from None

    def close(self) -> None:
        """Quit the browser and stop the loop; errors while quitting are not the user's."""
        try:
            self._call(self._kaleido.close(), 10)
        except Exception as exc:  # noqa: BLE001 - a crashed browser cannot be closed cleanly
            _log.debug("closing kaleido's browser: %s", _said(exc))
        finally:
            self._stop_loop()

    async def _open(self) -> Any:
        import kaleido

        browser = kaleido.Kaleido(path=self.chrome, mathjax=False, timeout=RENDER_SECONDS)
        await browser.open()
        return browser

    def _call(self, coroutine: Coroutine[Any, Any, Any], seconds: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {seconds:g} s") from None

    def _stop_loop(self) -> None:
        try:  # a dead browser leaves choreographer's watchdog task behind
            self._call(_cancel_pending(), 5)
        except (TimeoutError, RuntimeError) as exc:
            _log.debug("stopping kaleido's loop: %s", _said(exc))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()


async def _cancel_pending() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _loop_said(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What kaleido's loop reports, as one debug line. kaleido leaves a task failed and
    unread when the browser dies mid-figure (its `wait_for` gets `ChannelClosedError`);
    asyncio's default handler would log it as an error with a traceback, from the garbage
    collector, in whatever code happens to be running (on Python 3.11, formatting that
    traceback from a collection inside an `ast.parse` makes that `ast.parse` raise
    `SystemError`: the user's cell, or our own code, would fail for nothing)."""
    exc = context.get("exception")
    said = f" ({_said(exc)})" if isinstance(exc, BaseException) else ""
    _log.debug("kaleido's event loop: %s%s", context.get("message", ""), said)


def _said(exc: BaseException) -> str:
    """What an exception said, on one line: choreographer's errors carry a tuple of lines."""
    first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    text = " ".join(first.split()) or type(exc).__name__
    return clip(text, _SAID_CHARS)
