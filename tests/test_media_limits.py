"""Media size: byte and pixel caps, re-encoding, realistic token costs, replay budget.

A 100 MB image must cost a request a few MB (not 133) and later turns must not resend it
beyond the session's media budget; video over a cap, images that cannot be decoded and
0×0 figures are one line each; PIL's deep and odd modes convert faithfully.
"""

from __future__ import annotations

import io
import json
import math
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from PIL import Image

from kimi_jupyter._media import MAX_IMAGE_TOKENS, image_size, media_tokens
from kimi_jupyter.config import Settings
from kimi_jupyter.context import ContextError, Limits, convert
from kimi_jupyter.conversation import (
    BODY_MEDIA_BYTES,
    REPLAY_MEDIA_BYTES,
    Exchange,
    MediaPart,
    Message,
    Options,
    Session,
    TextPart,
)
from kimi_jupyter.kernel import KernelContext
from kimi_jupyter.simulator import Simulator
from kimi_jupyter.turn import Turn

KEY = "sk-media-limits-key"
HOSTED = Settings(api_key="k")
MP4_TYPE = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """About 100 MB: a 5,800×5,800 PNG of RGB noise, stored uncompressed."""
    noise = np.random.default_rng(11).integers(0, 256, (5_800, 5_800, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def body_size(request: dict[str, Any]) -> int:
    return len(json.dumps(request).encode())


def wire_media(request: dict[str, Any]) -> list[str]:
    return [
        part["image_url"]["url"]
        for message in request["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part["type"] == "image_url"
    ]


def noise_png(width: int, height: int, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def decoded(part: MediaPart) -> Image.Image:
    return Image.open(io.BytesIO(part.data))


def only_media(parts: list[Any]) -> MediaPart:
    (media,) = [p for p in parts if isinstance(p, MediaPart)]
    return media


# A 100 MB image, end to end


def test_a_100_mb_image_costs_the_request_a_few_mb(
    ip: InteractiveShell, sim: Simulator, huge_png: bytes
) -> None:
    assert len(huge_png) > 100_000_000
    ip.user_ns["img"] = huge_png
    ip.run_cell_magic("kimi", "--no-thinking -s big", "what is in @img?")
    request = sim.requests[-1]
    assert body_size(request) < 4_500_000  # was 135 MB
    (url,) = wire_media(request)
    assert url.startswith("data:image/jpeg;base64,")  # noise: PNG cannot get under the cap
    answer = KernelContext.current().sessions.get("big").exchanges[-1].turn.answer
    assert "JPEG, 2160×2160 pixels" in answer  # the simulator saw the downscaled image


def test_later_turns_replay_the_image_only_within_the_budget(
    ip: InteractiveShell, sim: Simulator, huge_png: bytes
) -> None:
    ip.user_ns["img"] = huge_png
    ip.run_cell_magic("kimi", "--no-thinking -s big", "what is in @img?")
    first = body_size(sim.requests[-1])
    ip.run_cell_magic("kimi", "--no-thinking -s big", "and the colours?")
    second = sim.requests[-1]
    assert len(wire_media(second)) == 1  # once, inside the 16 MB default budget
    assert body_size(second) < first + 20_000
    KernelContext.current().sessions.get("big").media_budget = 1_000_000
    ip.run_cell_magic("kimi", "--no-thinking -s big", "and the edges?")
    third = sim.requests[-1]
    assert wire_media(third) == []
    assert body_size(third) < 20_000
    assert "an image (image/jpeg 2160×2160) was attached here" in json.dumps(
        third, ensure_ascii=False
    )
    assert [m["role"] for m in third["messages"]] == ["user", "assistant"] * 2 + ["user"]


# Replay: newest media first, older media becomes a note, text stays


def image_exchange(data: bytes, text: str) -> Exchange:
    prompt = Message("user", (TextPart(text), MediaPart(data, "image/png")))
    return Exchange(prompt, Turn(answer=f"answer to {text}"))


def test_old_media_becomes_a_note_and_the_text_stays() -> None:
    session = Session("s")
    images = [noise_png(600, 600, seed) for seed in range(8)]  # about 1.1 MB each
    for i, data in enumerate(images):
        session.record(image_exchange(data, f"q{i}"))
    session.media_budget = 3 * len(images[0]) + 10
    payload, dropped = session.request(Message("user", "now"), HOSTED, Options())
    assert dropped == 0
    sent = wire_media(payload)
    assert len(sent) == 3
    assert all(url.endswith(_b64_tail(d)) for url, d in zip(sent, images[-3:], strict=True))
    text = json.dumps(payload)
    assert all(f'"q{i}"' in text for i in range(8))  # every turn's text is still there
    assert text.count("was attached here; left out of this request") == 5


def _b64_tail(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()[-40:]


def test_media_that_does_not_fit_the_window_is_left_out_before_the_turn_is() -> None:
    session = Session("s")
    session.record(image_exchange(noise_png(1400, 1400), "look"))
    image_cost = media_tokens(session.exchanges[0].prompt.media()[0].data, "image/png")
    settings = Settings(api_key="k", context_window=image_cost, output_reserve=100)
    payload, dropped = session.request(Message("user", "now"), settings, Options())
    assert dropped == 0
    assert wire_media(payload) == []
    assert payload["messages"][0]["content"][0]["text"] == "look"


def test_a_message_over_the_request_body_limit_is_one_line() -> None:
    parts = tuple(MediaPart(bytes(20_000_000), "image/png") for _ in range(4))
    with pytest.raises(ContextError) as info:
        Session("s").request(Message("user", (TextPart("all"), *parts)), HOSTED, Options())
    assert str(info.value) == (
        "the images and videos of this message come to 106.7 MB as base64, over the "
        f"{BODY_MEDIA_BYTES / 1e6:.1f} MB one request may carry; send fewer or smaller files"
    )


def test_replay_leaves_room_for_the_new_message_under_the_body_limit() -> None:
    session = Session("s")
    session.media_budget = REPLAY_MEDIA_BYTES * 10
    for i in range(4):
        session.record(image_exchange(b"\x89PNG" + bytes(15_000_000), f"q{i}"))
    big = MediaPart(bytes(45_000_000), "image/png")
    payload, _ = session.request(Message("user", (TextPart("new"), big)), HOSTED, Options())
    assert body_size(payload) < 100_000_000


# Token costs by pixel size


def test_media_tokens_follow_the_pixel_size() -> None:
    assert media_tokens(_png_header(28, 28), "image/png") == 1
    assert media_tokens(_png_header(29, 28), "image/png") == 2
    assert media_tokens(_png_header(4096, 2160), "image/png") == 147 * 78
    assert media_tokens(_png_header(20_000, 20_000), "image/png") == MAX_IMAGE_TOKENS
    assert media_tokens(b"not an image", "image/png") == MAX_IMAGE_TOKENS
    assert media_tokens(bytes(4096 * 100), "video/mp4") == 256 + 100
    message = Message("user", (TextPart("abc"), MediaPart(_png_header(280, 280), "image/png")))
    assert message.estimate_tokens() == 3 // 3 + 100 + 8


def _png_header(width: int, height: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        + width.to_bytes(4, "big")
        + height.to_bytes(4, "big")
    )


# Images: the byte cap, re-encoding, decoding failures


def test_an_image_inside_the_box_but_over_the_byte_cap_is_reencoded() -> None:
    data = noise_png(1200, 900)
    limits = Limits(max_image_bytes=len(data) // 3)
    part = only_media(convert(data, "img", limits=limits))
    assert part.mime == "image/jpeg"
    assert len(part.data) <= limits.max_image_bytes
    assert image_size(part.data) == (1200, 900)  # lower quality was enough


def test_transparent_images_over_the_cap_stay_transparent() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (500, 500, 4), dtype=np.uint8)
    image = Image.fromarray(pixels)
    limits = Limits(max_image_bytes=150_000)
    part = only_media(convert(image, "img", limits=limits))
    assert part.mime == "image/webp"
    assert len(part.data) <= 150_000
    assert decoded(part).mode == "RGBA"


def test_a_tight_cap_shrinks_the_image_until_it_fits() -> None:
    limits = Limits(max_image_bytes=20_000)
    part = only_media(convert(noise_png(2000, 1000), "img", limits=limits))
    assert len(part.data) <= 20_000
    width, height = image_size(part.data) or (0, 0)
    assert width < 2000
    assert math.isclose(width / height, 2.0, rel_tol=0.02)


def test_an_array_of_noise_fits_the_byte_cap() -> None:
    noise = np.random.default_rng(5).random((600, 800, 3))
    part = only_media(convert(noise, "arr", limits=Limits(max_image_bytes=300_000)))
    assert part.mime == "image/jpeg"
    assert len(part.data) <= 300_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (noise_png(5000, 100)[:5_000], "@img: the PNG image cannot be decoded"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "@img: the PNG image cannot be decoded"),
        (b"\xff\xd8\xff\xe0" + bytes(30), "@img: the JPEG image cannot be decoded"),
    ],
)
def test_an_image_that_cannot_be_decoded_is_one_line(data: bytes, message: str) -> None:
    with pytest.raises(ContextError) as info:
        convert(data, "img")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_an_image_file_over_the_decoding_limit_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scan.png"
    with path.open("wb") as file:
        file.write(_png_header(30_000, 30_000))
        file.truncate(300_000_000)  # sparse: nothing is really written
    tracemalloc.start()
    try:
        with pytest.raises(ContextError) as info:
            convert(path, "scan")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(info.value) == (
        "@scan: the image is 30,000×30,000 pixels, over the decoding limit of "
        "625,000,000 pixels (Limits.max_decode_pixels)"
    )
    assert peak < 5_000_000


def test_an_empty_pil_image_is_one_line() -> None:
    with pytest.raises(ContextError, match=r"^@im: the image is 0×0 pixels: nothing to send$"):
        convert(Image.new("RGB", (0, 0)), "im")


# PIL modes convert faithfully


def pixel(parts: list[Any]) -> Any:
    image = decoded(only_media(parts))
    return image.mode, image.getpixel((0, 0))


def test_16_bit_images_are_scaled_not_saturated() -> None:
    values = np.array([[0, 32768, 65535] * 8] * 20, dtype=np.uint16)
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    out = decoded(only_media(convert(image, "deep")))
    assert out.mode == "L"
    assert [out.getpixel((x, 0)) for x in range(3)] == [0, 128, 255]


def test_32_bit_integer_images() -> None:
    eight_bit = Image.fromarray(np.full((20, 20), 200, dtype=np.int32))
    assert eight_bit.mode == "I"
    assert pixel(convert(eight_bit, "i")) == ("L", 200)
    sixteen_bit = Image.fromarray(np.full((20, 20), 65535, dtype=np.int32))
    assert pixel(convert(sixteen_bit, "i")) == ("L", 255)
    wide = Image.fromarray(np.array([[-1_000_000, 0, 1_000_000]] * 20, dtype=np.int32))
    out = decoded(only_media(convert(wide, "i")))
    assert [out.getpixel((x, 0)) for x in range(3)] == [0, 128, 255]


def test_float_images_are_normalised() -> None:
    unit = Image.fromarray(np.array([[0.0, 0.5, 1.0]] * 20, dtype=np.float32))
    assert unit.mode == "F"
    out = decoded(only_media(convert(unit, "f")))
    assert [out.getpixel((x, 0)) for x in range(3)] == [0, 128, 255]
    wide = Image.fromarray(np.array([[-5.0, 15.0, np.nan]] * 20, dtype=np.float32))
    out = decoded(only_media(convert(wide, "f")))
    assert [out.getpixel((x, 0)) for x in range(3)] == [0, 255, 64]


def test_alpha_modes_keep_their_transparency() -> None:
    la = Image.new("LA", (20, 20), (90, 10))
    assert pixel(convert(la, "la")) == ("LA", (90, 10))
    palette = Image.new("P", (20, 20), 1)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.info["transparency"] = 1
    assert pixel(convert(palette, "p")) == ("RGBA", (0, 0, 255, 0))
    opaque = Image.new("P", (20, 20), 0)
    opaque.putpalette([255, 0, 0] + [0] * 765)
    assert pixel(convert(opaque, "p")) == ("RGB", (255, 0, 0))


def test_cmyk_becomes_rgb() -> None:
    cyan = Image.new("CMYK", (20, 20), (255, 0, 0, 0))
    assert pixel(convert(cyan, "c")) == ("RGB", (0, 255, 255))


def test_deep_images_over_the_box_are_scaled_and_shrunk() -> None:
    values = np.full((3000, 5000), 65535, dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, "PNG")
    part = only_media(convert(buffer.getvalue(), "scan"))
    image = decoded(part)
    assert image.size == (3600, 2160)
    assert image.getpixel((10, 10)) == 255


# Video caps


def box(kind: bytes, body: bytes) -> bytes:
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def mp4(width: int, height: int, version: int = 0) -> bytes:
    times = bytes(36 if version else 24)
    fixed = (width << 16).to_bytes(4, "big") + (height << 16).to_bytes(4, "big")
    tkhd = box(b"tkhd", bytes([version]) + times[1:] + bytes(16 + 36) + fixed)
    audio = box(b"trak", box(b"tkhd", bytes(24 + 16 + 36 + 8)))
    moov = box(b"moov", box(b"mvhd", bytes(100)) + audio + box(b"trak", tkhd))
    return MP4_TYPE + box(b"mdat", bytes(2_000)) + moov  # moov at the end, as cameras write


def avi(width: int, height: int) -> bytes:
    avih = b"avih" + (56).to_bytes(4, "little") + bytes(32)
    avih += width.to_bytes(4, "little") + height.to_bytes(4, "little") + bytes(16)
    return b"RIFF" + (4000).to_bytes(4, "little") + b"AVI LIST" + bytes(8) + avih + bytes(500)


@pytest.mark.parametrize(
    "data", [mp4(1920, 1080), mp4(1080, 1920), mp4(2048, 1080, version=1), avi(640, 480)]
)
def test_videos_inside_the_2k_box_are_sent_either_way_round(data: bytes) -> None:
    assert only_media(convert(data, "clip")).data == data


@pytest.mark.parametrize(
    ("data", "size"), [(mp4(3840, 2160), "3840×2160"), (avi(4096, 2160), "4096×2160")]
)
def test_videos_over_the_pixel_cap_are_one_line(data: bytes, size: str) -> None:
    with pytest.raises(ContextError) as info:
        convert(data, "clip")
    assert str(info.value) == (
        f"@clip: the video is {size} pixels, larger than 2048×1080 (Limits.max_video); "
        "scale it down first, e.g. ffmpeg -i in.mp4 -vf scale=-2:1080 out.mp4"
    )


def test_a_video_over_the_byte_cap_is_one_line_in_a_cell(ip: InteractiveShell) -> None:
    ip.user_ns["clip"] = MP4_TYPE + bytes(51_000_000)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("kimi", "", "what happens in @clip?")
    assert str(info.value) == (
        "@clip: the video is 51.0 MB, over the 50.0 MB limit (Limits.max_video_bytes); "
        "trim or compress it"
    )


# Figures


@pytest.mark.parametrize("size", [(0, 0), (0, 3), (4, 0), (1e-4, 1e-4)])
def test_zero_size_figures_are_one_line(size: tuple[float, float]) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=size)
    figure.add_subplot().plot([1, 2])
    with pytest.raises(ContextError) as info:
        convert(figure, "fig")
    assert str(info.value).startswith("@fig: the figure is ")
    assert "too small to draw; give it a size first (fig.set_size_inches(6, 4))" in str(info.value)


def test_an_empty_figure_is_one_line() -> None:
    from matplotlib.figure import Figure

    with pytest.raises(ContextError, match=r"^@fig: the figure is empty"):
        convert(Figure(), "fig")
