"""The decode budget (evidence.images): decided from the header, by pixels and by the bytes
a pixel costs in its mode; a JPEG over it is decoded at a smaller scale when that fits.
Run with small budgets (max_megapixels=1) on small real files, so nothing here is slow."""

from __future__ import annotations

import io
from random import Random

import pytest
from PIL import Image

from techapi.config import load_settings
from techapi.evidence import images
from techapi.evidence.filetypes import JPEG, PNG, ends_cleanly
from tests import media


def encoded(img: Image.Image, fmt: str, **options) -> io.BytesIO:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    out.seek(0)
    return out


def normalise(f: io.BytesIO, kind: str, max_megapixels: int = 1) -> images.NormalisedImage:
    return images.normalise(f, kind, max_megapixels=max_megapixels)


def test_the_default_lets_12_and_48_megapixel_phone_photos_through():
    assert load_settings({}).max_decoded_megapixels == images.DEFAULT_MAX_MEGAPIXELS == 50
    assert 4032 * 3024 < 8064 * 6048 < 8160 * 6120 <= images.DEFAULT_MAX_MEGAPIXELS * 1_000_000


def test_the_setting_is_read_from_the_environment():
    assert load_settings({"TECHAPI_MAX_DECODED_MEGAPIXELS": "12"}).max_decoded_megapixels == 12


def test_an_image_over_the_budget_is_refused_with_the_limit_in_the_message():
    with pytest.raises(images.ImageRejected) as refused:
        normalise(encoded(Image.new("RGB", (1200, 1000)), "PNG"), PNG)
    assert str(refused.value) == ("The image is 1200x1000 (1.2 megapixels, RGB): "
                                  "at most 1 megapixels of 24-bit colour are accepted")


def test_an_image_within_the_budget_is_accepted_at_full_size():
    out = normalise(encoded(Image.new("RGB", (1000, 1000), (9, 9, 9)), "PNG"), PNG)
    assert (out.width, out.height) == (1000, 1000)


def test_the_refusal_is_decided_from_the_header_before_any_pixel_is_decoded():
    # A header claiming 80 MP and almost no pixel data: refused for its size, not found corrupt.
    with pytest.raises(images.ImageRejected, match="at most 50 megapixels"):
        images.normalise(io.BytesIO(media.pixel_flood_png(8944, 8944)), PNG)


def test_a_mode_that_costs_more_bytes_a_pixel_has_a_smaller_budget():
    # 0.9 MP of 16-bit grey passes through 32 bits a pixel: over a 1 MP budget; RGB is not.
    grey16 = Image.new("I;16", (1000, 900), 30000)
    with pytest.raises(images.ImageRejected, match="I;16"):
        normalise(encoded(grey16, "PNG"), PNG)
    assert normalise(encoded(Image.new("RGB", (1000, 900)), "PNG"), PNG).width == 1000


def test_a_jpeg_over_the_budget_is_decoded_at_a_smaller_scale_that_fits():
    out = normalise(encoded(media.quadrants((2400, 2000)), "JPEG", quality=90), JPEG)
    assert (out.width, out.height) == (600, 500)  # 1/2 would still be 1.2 MP; 1/4 fits


def test_a_progressive_jpeg_counts_its_coefficients():
    # 0.81 MP at 4:4:4: 3.2 MB of bitmap and 4.9 MB of coefficients, over two 4 MB budgets.
    picture = media.quadrants((900, 900))
    baseline = normalise(encoded(picture, "JPEG", quality=90, subsampling=0), JPEG)
    progressive = normalise(encoded(picture, "JPEG", quality=90, subsampling=0, progressive=True), JPEG)
    assert (baseline.width, progressive.width) == (900, 450)


def test_a_png_is_not_decoded_at_a_smaller_scale():
    with pytest.raises(images.ImageRejected, match="at most 1 megapixels"):
        normalise(encoded(media.quadrants((2400, 2000)), "PNG"), PNG)


def test_a_turned_photo_that_must_shrink_is_turned_and_shrunk():
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = encoded(media.photo_like(1600, 1200), "JPEG", quality=95, exif=exif.tobytes())
    out = images.normalise(photo, JPEG, limit=200_000)
    assert out.width < out.height and len(out.data) <= 200_000
    with Image.open(io.BytesIO(out.data)) as sent:
        assert sent.size == (out.width, out.height)


def test_a_transparent_png_too_big_to_stay_png_is_flattened_onto_white():
    rgba = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (0, 0, 200, 300))
    noisy = Image.frombytes("RGB", (200, 150), media.os.urandom(200 * 150 * 3))
    rgba.paste(noisy, (200, 0, 400, 150))
    out = images.normalise(encoded(rgba, "PNG"), PNG, limit=60_000)
    with Image.open(io.BytesIO(out.data)) as sent:
        assert sent.format == "JPEG"
        assert all(abs(a - b) < 12 for a, b in zip(sent.getpixel((300, 250)), (255, 255, 255), strict=True))
        assert sent.getpixel((50, 50))[0] > 150


def test_a_palette_image_with_a_transparent_colour_is_flattened_onto_white():
    img = Image.frombytes("P", (400, 300), media.os.urandom(400 * 300))  # random: too big to stay a GIF
    img.putpalette(bytes([20, 40, 220]) + media.os.urandom(765))
    img.paste(0, (0, 0, 200, 150))  # a quarter in colour 0, the transparent one
    out = images.normalise(encoded(img, "GIF", transparency=0), "GIF", limit=40_000)
    with Image.open(io.BytesIO(out.data)) as sent:
        assert sent.format == "JPEG"
        corner = sent.getpixel((5, 5))
        assert min(corner) > 240, corner  # white, not colour 0's blue nor black


def mutations(data: bytes, rnd, count: int):
    for _ in range(count):
        mutated = bytearray(data)
        how = rnd.randrange(3)
        if how == 0 and len(mutated) > 4:
            mutated = mutated[:rnd.randrange(4, len(mutated))]
        elif how == 1:
            for _ in range(rnd.randrange(1, 6)):
                mutated[rnd.randrange(len(mutated))] = rnd.randrange(256)
        else:
            mutated += rnd.randbytes(rnd.randrange(1, 40))
        yield bytes(mutated)


@pytest.mark.parametrize("kind, make", [
    ("JPEG", media.motion_photo), ("JPEG", media.samsung_photo), ("JPEG", media.mpf_jpeg),
    ("PNG", media.png_with_text), ("GIF", media.gif), ("TIFF", media.tiff), ("TIFF", media.multipage_tiff),
])
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")  # Pillow's, about the damage
def test_a_damaged_file_is_refused_never_an_unexpected_error(kind, make):
    # Cut short, bytes changed, bytes added: what a flaky upload or a fuzzer sends (a 500 otherwise).
    for data in mutations(make(), Random(7), 150):
        try:
            if ends_cleanly(io.BytesIO(data), kind, len(data)):
                images.normalise(io.BytesIO(data), kind)
        except (images.ImageRejected, images.ContentMismatch):
            pass
