"""A QR code with the workspace's logo in its centre still reads (decoded by zxing-cpp, a real
QR reader), and a logo that is not an image is refused and changes nothing (both databases)."""

import io

import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from leadpond.acquisition.service import qr_url


def _logo(fmt: str = "PNG", side: int = 600) -> bytes:
    image = Image.new("RGB", (side, side), "#c8102e")
    ImageDraw.Draw(image).ellipse((side // 6, side // 6, side * 5 // 6, side * 5 // 6), "#ffd100")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _read(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        return [found.text for found in zxingcpp.read_barcodes(image.convert("RGB"))]


def test_a_logo_in_the_centre_keeps_the_code_readable(api: TestClient) -> None:
    link = api.post(
        "/api/v1/links", json={"url": "https://www.turingdata.cn/whitepaper", "channel": "poster"}
    ).json()
    plain = api.get(link["qr_png_url"])
    assert _read(plain.content) == [qr_url(link["code"])]
    refused = api.get(link["qr_png_url"], params={"logo": "true"})
    assert refused.status_code == 400 and refused.json()["field"] == "logo"  # none uploaded yet

    put = api.put("/api/v1/links/logo", files={"file": ("logo.jpg", _logo("JPEG"), "image/jpeg")})
    assert put.status_code == 204, put.text
    marked = api.get(link["qr_png_url"], params={"logo": "true"})
    assert marked.status_code == 200 and marked.headers["content-type"] == "image/png"
    assert marked.content != plain.content
    assert _read(marked.content) == [qr_url(link["code"])]  # still scans, logo and all
    with Image.open(io.BytesIO(marked.content)) as image:
        middle = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    yellow = (255, 209, 0)  # the logo's, sitting in the centre (a JPEG: give or take)
    assert all(abs(a - b) <= 4 for a, b in zip(middle, yellow, strict=True)), middle
    svg = api.get(link["qr_svg_url"], params={"logo": "true"})
    assert b"data:image/png;base64," in svg.content

    assert api.delete("/api/v1/links/logo").status_code == 204
    assert api.get(link["qr_png_url"], params={"logo": "true"}).status_code == 400


def test_a_logo_that_is_not_an_image_changes_nothing(api: TestClient) -> None:
    api.put("/api/v1/links/logo", files={"file": ("logo.png", _logo(), "image/png")})
    link = api.post("/api/v1/links", json={"url": "https://example.cn/", "channel": "g"}).json()
    before = api.get(link["qr_png_url"], params={"logo": "true"}).content
    for name, data in (
        ("a.png", b"not an image"),
        ("a.gif", _logo("GIF")),
        ("big.png", b"\x89PNG" + b"0" * 600_000),
    ):
        refused = api.put("/api/v1/links/logo", files={"file": (name, data, "image/png")})
        assert refused.status_code == 400 and refused.json()["field"] == "file", name
    assert api.get(link["qr_png_url"], params={"logo": "true"}).content == before
