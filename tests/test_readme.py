"""The newcomer's documentation tells the truth about the code: README.md, docs/ and `%kimi?`.

Everything is read from the code at test time (no copied lists), so a variable, trait,
benchmark, module or subcommand added later without its line in the docs fails here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from kimi_jupyter.magics import SUBCOMMANDS, KimiMagics

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kimi_jupyter"
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = sorted((ROOT / "docs").glob("*.md"))
SHARED = ROOT.parent / "shared"  # the maintainers' notes, beside the repository

ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
OUR_ENV_NAME = re.compile(r"(?:KIMI|MOONSHOT|ANYFAST)_[A-Z0-9_]+")
TRAIT_NAME = re.compile(r"[A-Z]\w*\.[a-z_]\w*")
_ENVIRON = {"os.environ", "environ", "env", "environment"}


def _is_environ(node: ast.expr) -> bool:
    return ast.unparse(node) in _ENVIRON or ast.unparse(node).endswith(".environ")


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _read_name(node: ast.AST) -> str | None:
    """The variable an `os.environ.get("X")`, `os.getenv("X")`, `env["X"]`, `"X" in
    os.environ` (and the like) reads."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        getter = name in ("get", "pop", "setdefault") and _is_environ(getattr(func, "value", func))
        if name == "getenv" or getter:
            return _string(node.args[0])
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return _string(node.slice)
    if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
        return _string(node.left) if _is_environ(node.comparators[0]) else None
    return None


def _python_env_names(path: Path) -> set[str]:
    """Variables the file reads, plus every `KIMI_*`-style string in it: names kept in
    tuples and tables (`KEY_VARIABLES`) or handed to a helper that reads them."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        read = _read_name(node)
        if read is not None:
            names.add(read)
        text = _string(node)
        if text is not None and OUR_ENV_NAME.fullmatch(text):
            names.add(text)
    return names


def env_names_in_code() -> set[str]:
    """Every environment variable the package and `make lab` read."""
    names: set[str] = set()
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        names |= _python_env_names(path)
    for script in (ROOT / "scripts").glob("*.sh"):
        names |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", script.read_text()))
    return {n for n in names if ENV_NAME.fullmatch(n)}


def config_traits_in_code() -> set[str]:
    """`Class.trait` for every `.tag(config=True)` trait in the package, and KimiMagics's."""
    traits = {f"KimiMagics.{name}" for name in KimiMagics.class_traits(config=True)}
    for path in PACKAGE.rglob("*.py"):
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            for statement in cls.body:
                if isinstance(statement, ast.Assign) and ".tag(config=True)" in ast.unparse(
                    statement.value
                ):
                    traits |= {f"{cls.name}.{ast.unparse(t)}" for t in statement.targets}
    return traits


def _section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]


def configuration_rows() -> list[list[str]]:
    """The names in the first cell of each row of README's Configuration table."""
    rows = []
    for line in _section(README, "## Configuration").splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        first = line.strip().strip("|").split("|")[0]
        names = re.findall(r"`([^`]+)`", first)
        rows.append([n for n in names if ENV_NAME.fullmatch(n) or TRAIT_NAME.fullmatch(n)])
    return [row for row in rows if row]


def test_the_configuration_table_has_a_row_for_everything_the_code_reads() -> None:
    in_table = {name for row in configuration_rows() for name in row}
    missing = (env_names_in_code() | config_traits_in_code()) - in_table
    assert not missing, f"add rows to README's Configuration table for {sorted(missing)}"


def test_every_configuration_row_is_read_by_the_code() -> None:
    in_code = env_names_in_code() | config_traits_in_code()
    stale = {name for row in configuration_rows() for name in row} - in_code
    assert not stale, f"README's Configuration table lists {sorted(stale)}, which nothing reads"


def test_the_collectors_find_what_is_known_to_be_read() -> None:
    """A guard on the collectors themselves: a parser that finds nothing would pass above."""
    assert {"KIMI_API_KEY", "MOONSHOT_API_KEY", "ANYFAST_API_KEY", "KIMI_BASE_URL",
            "KIMI_MODEL", "KIMI_VIEW", "KIMI_SIMULATOR_PORT"} <= env_names_in_code()  # fmt: skip
    assert {"KimiMagics.model", "KimiMagics.view"} <= config_traits_in_code()
    assert len(configuration_rows()) >= 5


def _cited_paths(text: str) -> Iterator[str]:
    """Relative paths in Markdown links, inline code and code blocks (not URLs, API
    routes, MIME types or templates)."""
    links = re.findall(r"\]\(([^)\s#]+)", text)
    words = re.findall(r"[^\s`'\"()<>\[\],;]+", " ".join(re.findall(r"`+([^`]+)`+", text)))
    for raw in [*links, *words]:
        path = raw.rstrip(".:;,")
        if "/" not in path or "://" in path or path.startswith(("/", "-", "@", "{", "$", "%")):
            continue
        if re.match(r"(text|application|image|video|audio)/", path) or re.search(r"[{}*<>=]", path):
            continue
        first = path.split("/", 1)[0]
        if first == ".." or (ROOT / first).exists() or re.search(r"(/|\.\w+)$", path):
            yield path  # a file or folder, not prose such as `y/N` or `ESLint/prettier`


@pytest.mark.parametrize("doc", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_every_file_path_the_docs_cite_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8").replace(_layout_block(), "")  # checked below
    missing = sorted(
        path
        for path in set(_cited_paths(text))
        if not (ROOT / path).exists() and not (doc.parent / path).exists()
    )
    assert not missing, f"{doc.name} cites paths that do not exist: {missing}"


def test_the_path_finder_sees_the_paths_readme_cites() -> None:
    found = set(_cited_paths(README))
    assert {"docs/batch.md", "benchmarks/bench_map.py", "scripts/start_simulator.py"} <= found
    assert not {p for p in found if p.startswith(("text/", "application/"))}


def _notes_cited(text: str) -> set[str]:
    """`KIMI_WIRE §2`, `DESIGN.md §4`, `STYLE rule 1`, `KIMI_WIRE.md`: the notes cited by name."""
    named = re.findall(r"\b([A-Z][A-Z_]{2,})(?:\.md)?\s+(?:§|rule\s+\d)", text)
    return set(named) | set(re.findall(r"\b([A-Z][A-Z_]{2,})\.md\b", text))


def _sources() -> Iterator[Path]:
    folders = {"kimi_jupyter": "*.py", "tests": "*.py", "benchmarks": "*.py", "scripts": "*",
               "docs": "*.md", "labextension/src": "*.ts"}  # fmt: skip
    for folder, pattern in folders.items():
        yield from (p for p in (ROOT / folder).rglob(pattern) if p.is_file())
    yield from (ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "Makefile")


def test_notes_cited_by_name_exist_in_the_repo_or_beside_it() -> None:
    """Docstrings and docs may cite a note by name only if it is in the repository, or in
    `../shared/` beside it, where every developer and CI run has the maintainers' notes."""
    in_repo = {p.stem for p in [*ROOT.glob("*.md"), *(ROOT / "docs").rglob("*.md")]}
    beside = {p.stem for p in SHARED.glob("*.md")}
    missing = {
        f"{path.relative_to(ROOT)}: {note}"
        for path in _sources()
        for note in _notes_cited(path.read_text(encoding="utf-8", errors="replace"))
        if note not in in_repo | beside
    }
    assert not missing, sorted(missing)


def test_fixture_paths_cited_in_code_exist() -> None:
    """`fixtures/…` in docstrings and comments names files under tests/fixtures/."""
    missing = set()
    for path in _sources():
        text = path.read_text(encoding="utf-8", errors="replace")
        for cited in re.findall(r"\bfixtures/[\w./-]*[\w/]", text):
            if not (ROOT / "tests" / cited).exists():
                missing.add(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing, sorted(missing)


def test_every_benchmark_is_described_and_every_described_one_exists() -> None:
    on_disk = {p.name for p in (ROOT / "benchmarks").glob("*.py")}
    described = set(re.findall(r"\bbench_\w+\.py\b", README))
    assert described - on_disk == set(), "README describes benchmarks that do not exist"
    assert on_disk - described == set(), "benchmarks/ has scripts README does not describe"
    for name in on_disk:
        [line] = [item for item in _section(README, "## Development").split("\n- ") if name in item]
        assert "target" in line, f"README gives {name} no target"


def _layout_block() -> str:
    return _section(README, "## Development").split("```\n", 2)[1]


def _layout_entries() -> Iterator[Path]:
    """The paths in README's layout tree: `name  description`, nested by indentation."""
    block = _layout_block()
    parents: list[tuple[int, Path]] = []
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        parents = [(i, p) for i, p in parents if i < indent]
        base = parents[-1][1] if parents else ROOT
        for name in names.split(", "):
            yield base / name
        parents.append((indent, base / names.split(", ")[0]))


def test_the_layout_tree_is_current() -> None:
    entries = set(_layout_entries())
    assert ROOT / "kimi_jupyter" / "run.py" in entries
    missing = sorted(str(p.relative_to(ROOT)) for p in entries if not p.exists())
    assert not missing, f"README's layout names what is not there: {missing}"
    # Every public module and subpackage; private helpers may be shown, and then must exist.
    package = {
        p
        for p in PACKAGE.iterdir()
        if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())
    }
    top = {p for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
    unlisted = sorted(str(p.relative_to(ROOT)) for p in package | top if p not in entries)
    assert not unlisted, f"README's layout does not show {unlisted}"


@pytest.fixture
def ip() -> Iterator[InteractiveShell]:
    start_ipython()  # IPython's own test shell, as in test_magics.py
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "kimi_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "kimi_jupyter")


@pytest.mark.parametrize("asking", ["%kimi?", "%%kimi?"])
def test_help_lists_every_subcommand_with_its_help(
    ip: InteractiveShell, asking: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_cell(asking)
    shown = capsys.readouterr().out
    assert "--keep-thinking" in shown  # the options come first
    listing = shown.split("subcommands (", 1)[1]
    for name, command in SUBCOMMANDS.items():
        assert command.help, f"%kimi {name} has no help line"
        assert re.search(rf"^  {name}( \[SESSION\])? +{re.escape(command.help)}$", listing, re.M)
