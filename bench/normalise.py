"""Photo normalisation: seconds to fit a 12 MP JPEG and a 12 MP HEIC under
5 MiB, against the floor: Pillow's plain decode and JPEG encode of the same
image, once, measured in the same run.

Goal: at most 2.5x the floor. Usage: python bench/normalise.py [--json out.json]
"""

from __future__ import annotations

import io

from common import arguments, best_of, report, write
from PIL import Image

from techapi.evidence import filetypes
from techapi.evidence.images import normalise
from tests.media import photo_like

REPEAT = 5


def encoded(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    photo_like(4032, 3024, seed=3).save(out, fmt, **options)
    return out.getvalue()


def main() -> None:
    args = arguments(__doc__).parse_args()
    import pillow_heif

    pillow_heif.register_heif_opener()
    inputs = {
        "12 MP JPEG (quality 97)": (encoded("JPEG", quality=97), filetypes.JPEG),
        "12 MP HEIC": (encoded("HEIF", quality=90, enc_params={"preset": "ultrafast"}), filetypes.HEIC),
    }
    results = []
    for name, (data, kind) in inputs.items():
        def floor(data: bytes = data) -> None:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                img.convert("RGB").save(io.BytesIO(), "JPEG", quality=90)

        def ours(data: bytes = data, kind: str = kind) -> None:
            normalise(io.BytesIO(data), kind)

        out = normalise(io.BytesIO(data), kind)
        floor_s, ours_s = best_of(floor, REPEAT), best_of(ours, REPEAT)
        ratio = ours_s / floor_s
        results.append(report(f"normalise {name}", ratio, "<= 2.5", ratio <= 2.5,
                              input_bytes=len(data), output_bytes=len(out.data),
                              output_size=f"{out.width}x{out.height}",
                              floor_seconds=round(floor_s, 3), normalise_seconds=round(ours_s, 3)))
    write(args.json, results)


if __name__ == "__main__":
    main()
