"""Page helpers the browser tests share: write a notebook, open it alone, run and save it,
take a screenshot, use the chat panel, and record what hostile output could cause."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

if TYPE_CHECKING:
    from conftest import LabServer
    from playwright.sync_api import Locator, Page, Request, Route

ARTIFACTS = Path(__file__).parent / "artifacts"
KERNEL_SPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
KERNEL_IDLE_JS = (
    "() => { const kernel = window.jupyterapp.shell.currentWidget"
    ".sessionContext.session?.kernel;"
    " return kernel?.connectionStatus === 'connected' && kernel.status === 'idle'; }"
)


def write_notebook(root: Path, name: str, cells: list[str | NotebookNode]) -> str:
    """A python3 notebook `root/name` of code cells (sources, or ready-made cells)."""
    notebook = new_notebook(cells=[new_code_cell(c) if isinstance(c, str) else c for c in cells])
    notebook.metadata["kernelspec"] = dict(KERNEL_SPEC)
    nbformat.write(notebook, root / name)
    return name


def open_notebook(
    page: Page, lab_server: LabServer, name: str, *, kernel: bool = True, timeout: float = 20_000
) -> Locator:
    """Open `name` alone in a fresh workspace; with `kernel`, wait until its kernel is idle."""
    workspace = Path(name).stem
    page.goto(
        f"{lab_server.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={lab_server.token}"
    )
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.content?.widgets")
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.first.wait_for()
    if kernel:
        page.wait_for_function(KERNEL_IDLE_JS, timeout=timeout)
    return cells


def run_all(page: Page) -> None:
    """Run every cell of the current notebook, without waiting for them to finish."""
    # Not awaited: the command's promise resolves only when every cell has finished.
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def save_notebook(page: Page) -> None:
    """Ctrl+S in the current notebook, then wait until it is clean on the server."""
    page.locator(".jp-Notebook").first.focus()
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => { const panel = window.jupyterapp.shell.currentWidget;"
        " return panel.context.model.dirty === false && !panel.title.className"
        ".includes('jp-mod-dirty'); }",
        timeout=10_000,
    )


def open_chat_panel(page: Page, name: str) -> Locator:
    """Open the Kimi panel; wait until it is connected to the kernel of notebook `name`."""
    from playwright.sync_api import expect

    page.evaluate("() => window.jupyterapp.commands.execute('kimi-jupyter:open-chat')")
    panel = page.locator("#kimi-jupyter-chat")
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-KimiChat-notebook")).to_have_text(name)
    expect(panel.locator(".jp-KimiChat-session")).to_be_enabled(timeout=20_000)
    return panel


def refuse_kernels(page: Page) -> list[str]:
    """Make every new session or kernel fail (503), as reopening without a kernel; returns the
    URLs refused."""
    import re

    blocked: list[str] = []

    def refuse(route: Route, request: Request) -> None:
        if request.method == "POST":
            blocked.append(request.url)
            route.fulfill(status=503, json={"message": "kernels are off in this test"})
        else:
            route.continue_()

    page.route(re.compile(r"/api/(sessions|kernels)(\?|/|$)"), refuse)
    return blocked


def ask_in_chat_panel(panel: Locator, prompt: str) -> None:
    """Type `prompt` and press Enter (the keyboard: a toast may cover the Send button)."""
    panel.locator(".jp-KimiChat-input").fill(prompt)
    panel.locator(".jp-KimiChat-input").press("Enter")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# Hostile output (issue 11): every URL a corpus vector could load contains this marker.
HOSTILE_MARKER = "kimi-hostile"

# Runs in every frame before the page's own scripts: whatever a vector would execute
# (alert/confirm/prompt/print, `window.__pwned = …`, a CSP report) is recorded, not shown;
# long tasks are timed so tests can tell a frozen tab from a busy one.
TRIPWIRE_JS = """(() => {
  const hits = [];
  const record = kind => (...args) => { hits.push(`${kind}:${args.map(String).join(',')}`); };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) { window[name] = record(name); }
  Object.defineProperty(window, '__kimiHits', { value: hits });
  Object.defineProperty(window, '__pwned', {
    get: () => undefined, set: value => hits.push(`__pwned:${value}`)
  });
  document.addEventListener('securitypolicyviolation', e => hits.push(`csp:${e.blockedURI}`));
  const longTasks = [];
  Object.defineProperty(window, '__kimiLongTasks', { value: longTasks });
  try {
    new PerformanceObserver(list => {
      for (const entry of list.getEntries()) { longTasks.push(entry.duration); }
    }).observe({ type: 'longtask', buffered: true });
  } catch (error) { /* no long-task timing in this frame */ }
})();"""

# The notebook's default windowing skips styling off-screen cells (`content-visibility`),
# which would also skip the fetches a CSS vector makes: render every cell.
ALL_CELLS_CSS = ".jp-Notebook-cell { content-visibility: visible !important; }"


class Tripwire:
    """Everything a page requested, opened or executed that model text could have caused."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.requests: list[str] = []
        self.media: list[str] = []
        self.sockets: list[str] = []
        self.failures: list[str] = []
        page.add_init_script(TRIPWIRE_JS)
        page.on("request", self._on_request)
        page.on("websocket", lambda socket: self.sockets.append(socket.url))
        page.on(
            "response",
            lambda response: (
                self.failures.append(f"{response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        # JupyterLab draws its icons inline (kernel logos and the favicon aside): another
        # image or media fetch is the answer's doing even without the marker
        # (`![x](x.png)`, `![](/api/kernels)`).
        own = ("/kernelspecs/", "/favicon")
        if request.resource_type in ("image", "media") and not any(
            part in request.url for part in own
        ):
            self.media.append(request.url)

    def marked_requests(self) -> list[str]:
        """Requests and sockets whose URL carries the corpus marker."""
        return [url for url in self.requests + self.sockets if HOSTILE_MARKER in url]

    def foreign_requests(self) -> list[str]:
        """Requests anywhere but the Jupyter server (inline `data:` and `blob:` aside)."""
        local = (self.origin, self.origin.replace("http", "ws", 1), "data:", "blob:", "about:")
        return [url for url in self.requests + self.sockets if not url.startswith(local)]

    def executions(self) -> list[str]:
        """What vectors ran: recorded dialogs, `__pwned` writes, CSP reports, in any frame."""
        from playwright.sync_api import Error

        hits: list[str] = []
        for frame in self.page.frames:
            try:
                hits += frame.evaluate("() => [...(window.__kimiHits ?? [])]")
            except Error:  # a frame that went away ran nothing more
                continue
        return hits

    def longest_task_ms(self) -> float:
        tasks: list[float] = self.page.evaluate("() => [...window.__kimiLongTasks]")
        return max(tasks, default=0.0)

    def assert_inert(self) -> None:
        """No execution, no marked or foreign request, no image or media fetch."""
        found = {
            "executions": self.executions(),
            "marked requests": self.marked_requests(),
            "foreign requests": self.foreign_requests(),
            "media": [url for url in self.media if not url.startswith("data:")],
        }
        assert {key: value for key, value in found.items() if value} == {}, found
