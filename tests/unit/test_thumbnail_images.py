"""Thumbnails and the PDF icon (evidence.images): aspect kept, never enlarged, within the
decode budget (a JPEG through libjpeg's draft scale, anything else refused over it)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from techapi.evidence import images


def encoded(img: Image.Image, fmt: str, **options) -> io.BytesIO:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    out.seek(0)
    return out


@pytest.mark.parametrize(("size", "expected"), [
    ((4032, 3024), (320, 240)), ((3024, 4032), (240, 320)), ((8000, 1000), (320, 40)),
    ((100, 50), (100, 50)), ((5000, 1), (320, 1)),
])
def test_the_preview_size_keeps_the_aspect_and_never_enlarges(size, expected):
    assert images.preview_size(size, 320) == expected


def test_a_12_megapixel_jpeg_is_previewed_within_a_1_megapixel_budget_through_its_draft_scale():
    photo = encoded(Image.new("RGB", (4000, 3000), (30, 120, 200)), "JPEG", quality=85)
    # 12 MP decoded in full is 12 times the budget (a PNG that size is refused, below); at 1/8 it is 0.19 MP.
    thumb = Image.open(io.BytesIO(images.thumbnail(photo, 320, max_megapixels=1)))
    assert (thumb.format, thumb.size) == ("JPEG", (320, 240))
    assert thumb.getpixel((160, 120)) == pytest.approx((30, 120, 200), abs=4)


def test_a_png_over_the_budget_is_refused_not_decoded():
    big = encoded(Image.new("RGB", (2000, 1000), (1, 2, 3)), "PNG")
    with pytest.raises(images.ImageRejected, match="decode budget of 1 megapixels"):
        images.thumbnail(big, 320, max_megapixels=1)


def test_a_corrupt_stored_image_is_refused_not_raised_raw():
    whole = encoded(Image.new("RGB", (400, 300), (1, 2, 3)), "JPEG").getvalue()
    with pytest.raises(images.ImageRejected):
        images.thumbnail(io.BytesIO(whole[: len(whole) // 3]), 320)


def test_the_document_icon_is_a_portrait_jpeg_drawn_once():
    icon = images.document_icon(320)
    assert icon is images.document_icon(320)
    img = Image.open(io.BytesIO(icon))
    assert (img.format, img.size) == ("JPEG", (240, 320)) and not img.getexif()
