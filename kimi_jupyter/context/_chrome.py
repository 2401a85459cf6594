"""Where a Chrome or Chromium already on this machine is, for drawing browser-only charts.

Plotly (through kaleido) and Bokeh (through selenium) draw their charts in a browser. We
never download one: `KIMI_CHROME` names the browser, else the first of the usual names on
`PATH` (Debian's `chromium`, `google-chrome`, …) is used; Bokeh also needs the browser's
`chromedriver` (`KIMI_CHROMEDRIVER`, else on `PATH`; Debian: `chromium-driver`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
HOW_TO_GET = (
    "install Chrome or Chromium (Debian/Ubuntu: apt-get install chromium) or set KIMI_CHROME "
    "to its path"
)
HOW_TO_GET_DRIVER = (
    "install its chromedriver (Debian/Ubuntu: apt-get install chromium-driver) or set "
    "KIMI_CHROMEDRIVER to its path"
)


def find_chrome() -> str | None:
    """The browser to draw charts in, or None when the machine has none."""
    return _find("KIMI_CHROME", BROWSERS)


def find_chromedriver() -> str | None:
    """The chromedriver selenium drives that browser with, or None."""
    return _find("KIMI_CHROMEDRIVER", ("chromedriver",))


def _find(variable: str, names: tuple[str, ...]) -> str | None:
    named = os.environ.get(variable)
    if named is not None:  # set, even to nothing: that one or none, no guessing
        path = Path(named)
        return str(path) if named and path.is_file() and os.access(path, os.X_OK) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None
