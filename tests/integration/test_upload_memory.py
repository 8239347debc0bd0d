"""Peak memory of normalising a large image, each in a fresh Python process: the growth of
its peak resident set (ru_maxrss) over a baseline taken after a small warm-up must stay under
the bound the README states: 3x the upload + 2 decode budgets (2 x 50 MP x 4 bytes: Pillow
keeps a pixel in four) + 64 MiB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from techapi.evidence.images import DEFAULT_MAX_MEGAPIXELS, budget_bytes
from tests import media

pytestmark = pytest.mark.db_independent  # CI runs it once, in the SQLite stage

ROOT = Path(__file__).resolve().parents[2]
MIB = 1_048_576
OVERHEAD = 64 * MIB

# What a web process does with an uploaded image: check where it ends, then normalise it.
MEASURE = """
import io, json, os, resource, sys
from techapi.evidence import filetypes, images
from tests import media

for warm_up, kind in ((media.jpeg(), "JPEG"), (media.png(), "PNG")):
    images.normalise(io.BytesIO(warm_up), kind)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[1], "rb") as f:
    size = os.fstat(f.fileno()).st_size
    kind = filetypes.detect(f.read(32))
    if not filetypes.ends_cleanly(f, kind, size):
        outcome = "refused: trailing data"
    else:
        try:
            out = images.normalise(f, kind)
            outcome = f"accepted: {out.content_type} {out.width}x{out.height}, {len(out.data)} bytes"
        except images.ImageRejected as exc:
            outcome = f"refused: {exc}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth": (peak - base) * 1024, "outcome": outcome}))
"""


def bound(upload_bytes: int) -> int:
    return 3 * upload_bytes + 2 * budget_bytes(DEFAULT_MAX_MEGAPIXELS) + OVERHEAD


def measure(path: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def big_files(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("big-images")
    files = {}
    # 80 megapixels of one colour with an orientation tag: about 250 KB that decode to 240 MB.
    files["flat"] = folder / "flat-8944.png"
    files["flat_size"] = media.write_big_png(files["flat"], 8944, 8944, orientation=6)
    # The same pixels with 820 random rows: about 22 MB.
    files["noisy"] = folder / "noisy-8944.png"
    files["noisy_size"] = media.write_big_png(files["noisy"], 8944, 8944, noise_rows=820)
    return files


def test_an_8944_square_png_with_an_orientation_tag_is_refused_from_its_header(big_files):
    size = big_files["flat_size"]
    assert size < 400_000
    result = measure(big_files["flat"])
    assert result["outcome"].startswith("refused: The image is 8944x8944 (80.0 megapixels, RGB)")
    assert f"at most {DEFAULT_MAX_MEGAPIXELS} megapixels" in result["outcome"]
    assert result["growth"] < bound(size)
    assert result["growth"] < 3 * size + OVERHEAD  # nothing was decoded


def test_a_22_mb_png_over_the_budget_is_refused_without_being_decoded(big_files):
    size = big_files["noisy_size"]
    assert 21_000_000 < size < 24_000_000
    result = measure(big_files["noisy"])
    assert result["outcome"].startswith("refused: The image is 8944x8944")
    assert result["growth"] < 3 * size + OVERHEAD


@pytest.mark.slow
def test_a_22_mb_png_within_the_budget_turned_and_downscaled_stays_under_the_bound(tmp_path):
    path = tmp_path / "noisy-7000.png"
    size = media.write_big_png(path, 7000, 7000, noise_rows=1050, orientation=6)  # 49 MP
    assert size > 20_000_000
    result = measure(path)
    assert result["outcome"].startswith("accepted: JPEG")
    assert result["growth"] < bound(size), f"{result['growth'] / MIB:.0f} MiB for a {size / 1e6:.1f} MB upload"


@pytest.mark.slow
def test_a_48_mp_phone_photo_turned_by_its_exif_stays_under_the_bound(tmp_path):
    path = tmp_path / "phone-48mp.jpg"
    exif = media.Image.Exif()
    exif[0x0112] = 6
    media.photo_like(8064, 6048).save(path, "JPEG", quality=92, exif=exif.tobytes())
    size = path.stat().st_size
    result = measure(path)
    assert result["outcome"].startswith("accepted: JPEG")
    assert result["growth"] < bound(size), f"{result['growth'] / MIB:.0f} MiB for a {size / 1e6:.1f} MB upload"


@pytest.mark.slow
def test_a_12_mp_heic_stays_under_the_bound(tmp_path):
    # libheif decodes through buffers of its own, beside the bitmap Pillow holds.
    path = tmp_path / "phone.heic"
    path.write_bytes(media.heic(4032, 3024))
    size = path.stat().st_size
    result = measure(path)
    assert result["outcome"].startswith("accepted: JPEG 4032x3024")
    assert result["growth"] < bound(size), f"{result['growth'] / MIB:.0f} MiB for a {size / 1e6:.1f} MB upload"
