"""Altair charts and displayed Vega-Lite/Vega specs → PNG parts by vl-convert (no browser)."""

from __future__ import annotations

import json

import altair as alt
import pytest
import vl_convert as vlc

from kimi_jupyter.context import ContextError, Limits, convert, describe, sha256
from kimi_jupyter.context._sniff import image_size
from kimi_jupyter.context.vega_charts import _vegalite_version, vega_spec_parts
from kimi_jupyter.conversation import TextPart
from kimi_jupyter.render.dryrun import downscaled

from helpers import png_part

VALUES = [{"day": d, "sales": s} for d, s in zip("MTWTFSS", [3, 5, 2, 6, 4, 7, 1], strict=True)]
V5_SPEC = {  # as Altair 5 displayed it, under application/vnd.vegalite.v5+json
    "$schema": "https://vega.github.io/schema/vega-lite/v5.20.1.json",
    "data": {"values": VALUES},
    "mark": "bar",
    "encoding": {
        "x": {"field": "day", "type": "ordinal"},
        "y": {"field": "sales", "type": "quantitative"},
    },
    "width": 240,
    "height": 160,
}


def bar_chart(width: int = 200, height: int = 150) -> alt.Chart:
    """A chart whose padding is inside its width and height, so its PNG is exactly that size."""
    return (
        alt.Chart(alt.Data(values=VALUES))
        .mark_bar()
        .encode(x="day:O", y="sales:Q")
        .properties(
            width=width, height=height, autosize=alt.AutoSizeParams(type="fit", contains="padding")
        )
    )


def test_a_chart_is_a_png_of_its_own_size() -> None:
    parts = convert(bar_chart(), "chart")
    assert parts[0] == TextPart("@chart: Altair Chart, 200×150")
    image = png_part(parts)
    assert image_size(image.data) == (200, 150)
    assert describe(image).startswith("image/png 200×150, ")


def test_the_same_chart_twice_gives_identical_bytes() -> None:
    chart = bar_chart()
    first, second = png_part(convert(chart, "c")), png_part(convert(chart, "c"))
    assert first.data == second.data
    assert sha256(first) == sha256(second)
    assert png_part(convert(chart.properties(title="Sales"), "c")).data != first.data


def test_layered_and_concatenated_charts_are_drawn_whole() -> None:
    chart = alt.Chart(alt.Data(values=VALUES)).mark_bar().encode(x="day:O", y="sales:Q")
    chart = chart.properties(width=200, height=150)
    parts = convert((chart + chart.mark_line(color="red")) | chart, "both")
    assert isinstance(parts[0], TextPart)
    assert parts[0].text.startswith("@both: Altair HConcatChart, ")
    width, height = image_size(png_part(parts).data) or (0, 0)
    assert width > 400
    assert height >= 150


def test_a_chart_larger_than_the_limits_is_drawn_smaller() -> None:
    parts = convert(bar_chart(2000, 1500), "big", limits=Limits(max_image=(400, 400)))
    assert parts[0] == TextPart("@big: Altair Chart, 2000×1500")
    assert image_size(png_part(parts).data) == (400, 300)
    assert downscaled(parts) == ["@big: downscaled from 2000×1500 to 400×300"]


def test_a_chart_with_a_data_url_is_one_line_and_fetches_nothing() -> None:
    chart = alt.Chart("https://example.com/sales.csv").mark_bar().encode(x="day:O", y="sales:Q")
    with pytest.raises(ContextError) as caught:
        convert(chart, "remote")
    assert str(caught.value) == (
        "@remote: the chart loads its data from https://example.com/sales.csv, and charts are "
        "drawn without fetching anything; give the chart the data itself (a DataFrame)"
    )
    assert caught.value.__cause__ is None


def test_an_invalid_chart_is_one_line_naming_altair() -> None:
    chart = alt.Chart(alt.Data(values=VALUES)).mark_bar().encode(x="day:O")
    chart.mark = "not-a-mark"
    with pytest.raises(ContextError, match=r"^@bad: Altair cannot turn the chart into a spec \("):
        convert(chart, "bad")


def test_a_vega_lite_v5_output_is_drawn_with_vega_lite_5() -> None:
    parts = vega_spec_parts(V5_SPEC, "application/vnd.vegalite.v5+json", "@last", Limits())
    image = png_part(parts)
    assert image.data == vlc.vegalite_to_png(V5_SPEC, vl_version="5.20", scale=1)
    size = image_size(image.data)
    assert size is not None
    assert parts[0] == TextPart(f"@last: Vega-Lite chart, {size[0]}×{size[1]}")


def test_altair_6_outputs_under_both_spellings_are_drawn() -> None:
    chart = bar_chart()
    with alt.renderers.enable("mimetype"):
        bundle, _ = chart._repr_mimebundle_()
    (mime,) = [m for m in bundle if m != "text/plain"]
    assert mime == "application/vnd.vegalite.v6.json"
    spec = json.loads(json.dumps(bundle[mime]))
    expected = png_part(convert(chart, "c")).data
    for spelling in (mime, "application/vnd.vegalite.v6+json"):
        parts = vega_spec_parts(spec, spelling, "@last (Out[4])", Limits())
        assert parts[0] == TextPart("@last (Out[4]): Vega-Lite chart, 200×150")
        assert png_part(parts).data == expected


def test_a_vega_output_is_drawn() -> None:
    vega = vlc.vegalite_to_vega(bar_chart().to_dict())
    parts = vega_spec_parts(vega, "application/vnd.vega.v6.json", "@last", Limits())
    assert parts[0] == TextPart("@last: Vega chart, 200×150")
    assert image_size(png_part(parts).data) == (200, 150)


def test_outputs_that_are_not_vega_charts_are_one_line() -> None:
    with pytest.raises(ContextError, match=r"^@last: text/html is not a Vega or Vega-Lite output$"):
        vega_spec_parts({}, "text/html", "@last", Limits())
    with pytest.raises(ContextError) as caught:
        vega_spec_parts({"marks": 5}, "application/vnd.vega.v5+json", "@last", Limits())
    assert str(caught.value).startswith("@last: Vega could not draw the chart (TypeError: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "major", "version"),
    [
        ("https://vega.github.io/schema/vega-lite/v5.20.1.json", 5, "5.20"),
        ("https://vega.github.io/schema/vega-lite/v5.9.0.json", 5, "5.14"),
        ("https://vega.github.io/schema/vega-lite/v5.99.0.json", 5, "5.21"),
        ("https://vega.github.io/schema/vega-lite/v6.4.1.json", 6, "6.4"),
        ("https://vega.github.io/schema/vega-lite/v4.17.0.json", 4, "5.8"),
        ("https://vega.github.io/schema/vega-lite/v7.0.0.json", 7, "6.4"),
        (None, 5, "5.21"),
        (None, None, None),
    ],
)
def test_the_vega_lite_version_is_the_bundled_one_closest_to_the_schema(
    schema: str | None, major: int | None, version: str | None
) -> None:
    bundled = ["5.8", "5.14", "5.15", "5.16", "5.17", "5.20", "5.21", "6.1", "6.4"]  # 1.9.0
    spec = {"$schema": schema} if schema else {}
    assert _vegalite_version(spec, major, bundled) == version
