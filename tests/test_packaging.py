"""The built wheel ships the prebuilt lab extension, and JupyterLab finds it enabled and OK."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PREBUILT = ROOT / "kimi_jupyter" / "labextension"
SHARE = "share/jupyter/labextensions/kimi-jupyter"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

pytestmark = pytest.mark.slow


def _require_prebuilt() -> None:
    if (PREBUILT / "static" / "style.js").is_file():
        return
    message = "the lab extension is not built: run `cd labextension && npm run build:prod`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _venv_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    # `jupyter ...` subcommands and the npm hook look up sibling scripts on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _section(listing: str, directory: Path) -> list[str]:
    """Return the extension lines `jupyter labextension list` prints under `directory`."""
    lines: list[str] = []
    inside = False
    for raw in _ANSI.sub("", listing).splitlines():
        if raw and not raw[0].isspace():
            inside = Path(raw.strip()) == directory
        elif inside and raw.strip():
            lines.append(raw.strip())
    return lines


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_prebuilt()
    outdir = tmp_path_factory.mktemp("dist")
    build = ["-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir)]
    done = _run(sys.executable, *build, env=_venv_env())
    assert done.returncode == 0, done.stdout + done.stderr
    # skip-if-exists in pyproject.toml: a wheel reuses the prebuilt extension, npm never runs.
    assert "Skipping build" in done.stdout + done.stderr, done.stdout + done.stderr
    (built,) = outdir.glob("kimi_jupyter-*.whl")
    return built


def test_wheel_ships_the_prebuilt_extension(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    data = [n for n in names if re.match(rf"kimi_jupyter-[^/]+\.data/data/{SHARE}/", n)]
    shipped = {n.split(f"{SHARE}/", 1)[1] for n in data}
    assert {"package.json", "install.json", "static/style.js"} <= shipped
    assert any(re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", n) for n in shipped)
    assert not any(n.startswith("labextension/") or "node_modules" in n for n in names)


def test_installed_wheel_is_enabled_and_ok(wheel: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    # --ignore-installed: never uninstall the developer's own kimi-jupyter from this venv.
    pip = ["-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed"]
    pip += ["--prefix", str(prefix), str(wheel)]
    installed = _run(sys.executable, *pip, env=_venv_env(PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    data_dir = prefix / "share" / "jupyter"
    assert (data_dir / "labextensions" / "kimi-jupyter" / "package.json").is_file()

    listing = ["-m", "jupyter", "labextension", "list"]
    listed = _run(sys.executable, *listing, env=_venv_env(JUPYTER_PATH=str(data_dir)))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    section = _section(listed.stdout + listed.stderr, data_dir / "labextensions")
    kimi = [line for line in section if line.split()[0] == "kimi-jupyter"]
    assert len(kimi) == 1, listed.stdout + listed.stderr
    version = json.loads((ROOT / "labextension" / "package.json").read_text())["version"]
    assert kimi[0].split()[1:4] == [f"v{version}", "enabled", "OK"], kimi[0]
