"""Bokeh figures and layouts, and HoloViews/hvPlot objects, as PNG parts.

Bokeh draws only in a browser: the chart is screenshot at its size on the page in one
headless Chrome/Chromium, driven through its chromedriver by selenium, started on the
first chart and quit when the interpreter exits. The browser and the driver are the ones
`_chrome` finds on the machine; selenium is told exactly where both are, so its manager
never downloads or phones anything. Without them a Bokeh chart is sent as a compact JSON
summary of its data instead, and `note()` says so and how to get them.

HoloViews objects are drawn by their active backend (`hv.Store.current_backend`, Bokeh
after `import hvplot.pandas`): Bokeh as above, falling back to matplotlib, with a note,
when there is no browser; matplotlib through `figures.render_png`. Neither the user's
backend nor matplotlib's interactive mode is changed.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kimi_jupyter.conversation import MediaPart, Part
from kimi_jupyter.errors import ContextError

from . import images
from ._bokeh_summary import summary
from ._chrome import HOW_TO_GET, HOW_TO_GET_DRIVER, find_chrome, find_chromedriver
from ._common import Limits, clip, labelled, one_line, text_part, who
from ._jsonsafe import dumps
from ._notes import note
from .matplotlib_charts import close, interactive_kept, render

if TYPE_CHECKING:
    from PIL import Image

WAIT_SECONDS = 20  # for BokehJS to load and draw; the first page also inlines ~1 MB of JS
CHROME_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",  # kernels often run as root in containers, where the sandbox cannot start
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",  # one image pixel per CSS pixel: the size on the page
    "--force-color-profile=srgb",
    "--enable-unsafe-swiftshader",  # WebGL in software (hvPlot draws with webgl)
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
)
# Selenium Manager is skipped when the driver's path is given; these keep it offline anyway.
_SELENIUM_OFFLINE = {"SE_OFFLINE": "true", "SE_AVOID_STATS": "true"}


class _Browser:
    """The one selenium Chrome driver of the process: started when first needed, restarted
    when it has died, quit at interpreter exit."""

    def __init__(self) -> None:
        self._driver: Any = None
        self._lock = threading.Lock()

    def missing(self) -> str | None:
        """Why no browser can draw here (and how to get one), or None."""
        if self._driver is not None:
            return None
        if find_chrome() is None:
            return f"no Chrome or Chromium to draw it: {HOW_TO_GET}"
        if find_chromedriver() is None:
            return f"no chromedriver to draw it with: {HOW_TO_GET_DRIVER}"
        return None

    def png(self, model: Any, who: str, limits: Limits) -> MediaPart:
        """A Bokeh model's screenshot at its size on the page, fitted into `limits`."""
        broken = _broken_browser_errors()
        with self._lock:
            if self._driver is not None and self._driver.service.process.poll() is None:
                try:
                    return _fitted(self._screenshot(model, who), who, limits)
                except broken:
                    pass  # the browser had died or hung: draw in a new one
            self._quit()
            self._start(who)
            try:
                image = self._screenshot(model, who)
            except broken as exc:
                self._quit()
                raise ContextError(f"{who}: Bokeh could not draw it ({_said(exc)})") from exc
        return _fitted(image, who, limits)

    def quit(self) -> None:
        """Close the browser (the next chart starts a new one)."""
        with self._lock:
            self._quit()

    def _screenshot(self, model: Any, who: str) -> Image.Image:
        """The page's screenshot; a browser that broke raises as it did, for `png` to retry."""
        from bokeh.io.export import get_screenshot_as_png

        try:
            with _browser_console_unlogged():
                return get_screenshot_as_png(model, driver=self._driver, timeout=WAIT_SECONDS)
        except _broken_browser_errors():
            raise
        except Exception as exc:
            raise ContextError(f"{who}: Bokeh could not draw it ({one_line(exc)})") from exc

    def _start(self, who: str) -> None:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        chrome, driver_path = find_chrome(), find_chromedriver()
        if chrome is None or driver_path is None:
            raise ContextError(f"{who}: {self.missing()}")
        options = Options()
        options.binary_location = chrome
        for argument in CHROME_ARGUMENTS:
            options.add_argument(argument)
        try:
            with _environment(_SELENIUM_OFFLINE):
                driver = webdriver.Chrome(
                    service=Service(executable_path=driver_path), options=options
                )
        except (WebDriverException, OSError) as exc:
            raise ContextError(
                f"{who}: Bokeh could not start {chrome} through {driver_path} ({_said(exc)})"
            ) from exc
        driver.set_page_load_timeout(2 * WAIT_SECONDS)
        driver.set_script_timeout(2 * WAIT_SECONDS)
        self._driver = driver
        atexit.register(self.quit)

    def _quit(self) -> None:
        driver, self._driver = self._driver, None
        if driver is None:
            return
        atexit.unregister(self.quit)
        if driver.service.process.poll() is not None:
            return  # chromedriver has exited: asking it to close would only retry and warn
        with contextlib.suppress(*_broken_browser_errors()):  # gone already: nothing to close
            driver.quit()


_BROWSER = _Browser()


def bokeh_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for Bokeh figures, layouts and widgets (`bokeh.models.LayoutDOM`)."""
    what = f"Bokeh {type(obj).__name__}"
    missing = _BROWSER.missing()
    if missing is not None:
        note(f"{who(name, obj)}: {what} sent as its data summary ({missing})")
        intro = f"{what}, as a JSON summary of its data (it could not be drawn here):\n"
        return [text_part(name, intro + dumps(summary(obj)), limits)]
    return labelled(name, what, _BROWSER.png(obj, who(name, obj), limits))


def holoviews_parts(obj: Any, name: str | None, limits: Limits) -> Sequence[Part]:
    """Converter for HoloViews and hvPlot objects (`holoviews.core.dimension.Dimensioned`)."""
    import holoviews as hv

    what, backend = f"HoloViews {type(obj).__name__}", hv.Store.current_backend
    if backend == "bokeh":
        missing = _BROWSER.missing()
        if missing is None:
            model = _holoviews_state(hv, obj, "bokeh", who(name, obj))
            return labelled(name, what, _BROWSER.png(model, who(name, obj), limits))
        note(f"{who(name, obj)}: {what} drawn with matplotlib, not Bokeh ({missing})")
    elif backend != "matplotlib":
        note(f"{who(name, obj)}: {what} drawn with matplotlib, not {backend}")
    figure = _holoviews_state(hv, obj, "matplotlib", who(name, obj))
    try:
        return labelled(name, what, render(figure, "HoloViews", who(name, obj), limits))
    finally:
        close(figure)


def _holoviews_state(hv: Any, obj: Any, backend: str, who: str) -> Any:
    """The Bokeh model or matplotlib figure HoloViews draws `obj` as (a HoloMap's first
    frame); loading a backend's renderer may make it the current one: put the user's back."""
    previous = hv.Store.current_backend
    try:
        with interactive_kept():
            return hv.renderer(backend).get_plot_state(obj)
    except Exception as exc:
        problem = f"HoloViews could not draw it with {backend} ({one_line(exc)})"
        raise ContextError(f"{who}: {problem}") from exc
    finally:
        if hv.Store.current_backend != previous:
            hv.Store.set_current_backend(previous)


def _broken_browser_errors() -> tuple[type[Exception], ...]:
    """What a browser that died or hung raises: selenium's errors, and the HTTP client's
    when chromedriver itself is gone."""
    from selenium.common.exceptions import WebDriverException
    from urllib3.exceptions import HTTPError

    return (WebDriverException, HTTPError, ConnectionError)


def _fitted(image: Image.Image, who: str, limits: Limits) -> MediaPart:
    """The screenshot as PNG without metadata (the same bytes for the same chart), RGB when
    it is opaque (it always is, unless the page's background is transparent)."""
    image.info.clear()
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    return images.fit(image, "PNG", who, limits)


def _said(exc: Exception) -> str:
    """A selenium error's message without the driver's stack trace that follows it."""
    message = getattr(exc, "msg", None)
    return clip(" ".join(message.split()), 160) if isinstance(message, str) else one_line(exc)


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Environment variables set for the block only (the kernel's own are put back)."""
    before = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextlib.contextmanager
def _browser_console_unlogged() -> Iterator[None]:
    """Bokeh relays the export page's console as warnings (a missing panel shim, an empty
    range): about our off-screen page, not the user's chart, so they are not shown."""
    logger, dropped = logging.getLogger("bokeh.io.export"), _DropAll()
    logger.addFilter(dropped)
    try:
        yield
    finally:
        logger.removeFilter(dropped)
