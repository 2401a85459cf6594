"""`%kimi map` progress: one header, and the error column only when some row failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import comm
import pandas as pd
import polars as pl
import pytest
from comm.base_comm import BaseComm
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from kimi_jupyter import Chat
from kimi_jupyter.conversation import Sessions
from kimi_jupyter.render.progress import MapProgress, WidgetProgress
from kimi_jupyter.simulator import Simulator

KEY = "sk-sim-map-progress"
QUOTA = "[[sim: fault=quota]]"
ONCE = "[[sim: fault=quota times=1]]"


class Quiet(BaseComm):
    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        return


class Opened(BaseComm):
    """A comm that only counts what it opens."""

    models: ClassVar[list[str]] = []

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:  # fmt: skip
        if msg_type == "comm_open":
            Opened.models.append(data["state"]["_model_name"])


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


def new_chat(sim: Simulator) -> Chat:
    return Chat("t", sessions=Sessions(), api_key=KEY, base_url=sim.base_url, thinking=False)


def test_no_error_column_when_every_row_succeeds(sim: Simulator) -> None:
    df = pd.DataFrame({"text": ["fine a", "fine b"]})
    report = new_chat(sim).map("{text}", df, column="summary", view="none")
    assert report.failed == 0
    assert list(df.columns) == ["text", "summary"]


def test_the_error_column_comes_with_the_first_error_and_goes_when_reruns_clear_it(
    sim: Simulator,
) -> None:
    df = pd.DataFrame({"text": ["ok row", f"flaky row {ONCE}"]})
    chat = new_chat(sim)
    first = chat.map("{text}", df, column="summary", view="none")
    assert first.failed == 1
    assert list(df.columns) == ["text", "summary", "summary_error"]
    assert df["summary_error"].tolist()[0] is None
    second = chat.map("{text}", df, column="summary", view="none")
    assert (second.done, second.failed) == (1, 0)
    assert list(df.columns) == ["text", "summary"]  # no errors left: no error column


def test_polars_gets_the_error_column_only_with_errors(sim: Simulator) -> None:
    clean = pl.DataFrame({"text": ["fine polars"]})
    new_chat(sim).map("{text}", clean, column="summary", view="none")
    assert clean.columns == ["text", "summary"]
    failing = pl.DataFrame({"text": ["fine", f"broken {QUOTA}"]})
    new_chat(sim).map("{text}", failing, column="summary", view="none")
    assert failing.columns == ["text", "summary", "summary_error"]


def test_the_widget_progress_has_one_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", Quiet)
    view = WidgetProgress(4, lambda: None, clock=lambda: 100.0)
    view.update(MapProgress(total=4, started=99.0, done=1))
    headers = [view.bar.description, view.label.value]
    assert sum("kimi map" in text for text in headers) == 1
    assert view.label.value.startswith("kimi map: 1/4 rows")


@pytest.mark.parametrize("cell_id", [None, "cell-1"], ids=["headless", "frontend"])
def test_the_default_progress_is_text_headless_and_the_widget_in_a_frontend(
    ip: InteractiveShell,
    sim: Simulator,
    running_cell: Callable[[str | None], None],
    monkeypatch: pytest.MonkeyPatch,
    cell_id: str | None,
) -> None:
    monkeypatch.setattr(comm, "create_comm", Opened)
    monkeypatch.setattr(Opened, "models", [])
    running_cell(cell_id)  # a kernel; nbclient and papermill send no cell id
    df = pd.DataFrame({"text": ["fine a", "fine b"]})
    with capture_output() as captured:
        report = new_chat(sim).map("{text}", df, column="summary")
    assert report.done == 2
    if cell_id is None:  # one line of text: nbclient would have saved every widget model
        assert Opened.models == []
        assert captured.outputs == []
        assert report.summary() in captured.stdout
    else:
        assert "IntProgressModel" in Opened.models
        shown, *_, final = captured.outputs
        assert "application/vnd.jupyter.widget-view+json" in shown.data
        assert final.data["text/plain"] == report.summary()
        assert captured.stdout == ""
