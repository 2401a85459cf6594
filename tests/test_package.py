"""The public surface, and the UI-free core (STYLE rule 1)."""

from __future__ import annotations

import json
import subprocess
import sys

import kimi_jupyter

CORE = [
    "kimi_jupyter",
    "kimi_jupyter.config",
    "kimi_jupyter.errors",
    "kimi_jupyter.events",
    "kimi_jupyter.turn",
    "kimi_jupyter.client",
    "kimi_jupyter.conversation",
    "kimi_jupyter.chat",
    "kimi_jupyter.simulator",
    "kimi_jupyter.context",
    "kimi_jupyter.mentions",
    "kimi_jupyter.render.html",
    "kimi_jupyter.render.bundle",
    "kimi_jupyter.render.live",
    "kimi_jupyter.agent",
]
HEAVY = ("IPython", "ipywidgets", "ipykernel", "pandas", "polars", "matplotlib", "PIL", "numpy")
# Chart libraries and what draws them (issue 15): imported only when a chart is mentioned.
CHARTS = ("plotly", "kaleido", "choreographer", "altair", "vl_convert", "bokeh", "selenium",
          "holoviews", "hvplot", "panel", "plotnine", "seaborn")  # fmt: skip
# Not heavy, but not needed before the first question: `%load_ext` leaves them unloaded.
FIRST_QUESTION = ("httpx", "httpx_sse", "tenacity", "markdown_it", "nh3", "jsonschema")


def test_public_all_is_pinned() -> None:
    assert sorted(kimi_jupyter.__all__) == [
        "Chat",
        "ChatStream",
        "ChatWidget",
        "KimiError",
        "Settings",
        "Turn",
        "__version__",
        "tool",
    ]
    for name in kimi_jupyter.__all__:
        assert hasattr(kimi_jupyter, name)


def test_core_imports_no_ui_or_heavy_packages() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
    charts = code.replace(repr(HEAVY), repr(CHARTS))
    out = subprocess.run([sys.executable, "-c", charts], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_labextension_paths_point_at_the_prebuilt_extension() -> None:
    (entry,) = kimi_jupyter._jupyter_labextension_paths()
    assert entry == {"src": "labextension", "dest": "kimi-jupyter"}


def test_version_is_the_labextension_version() -> None:
    from pathlib import Path

    package = Path(__file__).parents[1] / "labextension" / "package.json"
    assert kimi_jupyter.__version__ == json.loads(package.read_text())["version"]


def test_load_ext_is_light() -> None:
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'kimi_jupyter')\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint(HEAVY[1:])
    assert loaded.isdisjoint(FIRST_QUESTION)
    assert loaded.isdisjoint(CHARTS)


def test_lazy_public_names_resolve() -> None:
    code = (
        "import json, sys, kimi_jupyter\n"
        "before = 'httpx' in sys.modules\n"
        "from kimi_jupyter import Chat, tool\n"
        "print(json.dumps([before, 'httpx' in sys.modules, Chat.__module__, tool.__module__]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, True, "kimi_jupyter.chat", "kimi_jupyter.tools"]
