"""Peak memory of a web process while it receives and processes large uploads.

Starts `techapi serve` on the embedded defaults in a subprocess, uploads large
files through real HTTP (streamed from disk by the client), and reads the
server's peak resident set (VmHWM) before and after each upload. The goal is the
bound the README states for any upload, accepted or refused: growth under 3x the
upload + 2 x TECHAPI_MAX_DECODED_MEGAPIXELS x 4 MB + 64 MiB (445 MiB at the
default). Each line prints the growth, that bound, and pass or FAIL; the exit
status is 1 when any upload misses it. The files: a 25 MB PDF and a 12 MP JPEG
of noise (the worst case that fits), an 80 MP PNG of 250 KB with an orientation
tag and an 80 MP PNG of 22 MB (both over the budget, refused from the header),
a 49 MP PNG of 22 MB with an orientation tag and a 48 MP phone-like JPEG turned
by its EXIF (both accepted, turned and shrunk).

Usage: python bench/upload_memory.py [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_files(tmp: Path) -> dict[str, Path]:
    from PIL import Image

    from tests.media import photo_like, write_big_png

    files = {}
    pdf = tmp / "scan.pdf"  # over Amazon's 5 MiB: refused with 413 after streaming to disk
    with pdf.open("wb") as f:
        f.write(b"%PDF-1.4\n")
        for _ in range(25):
            f.write(os.urandom(1_000_000))
        f.write(b"\n%%EOF\n")
    files["pdf_25mb"] = pdf
    jpeg = tmp / "big.jpg"  # a 12 MP photo of pure noise at quality 100: the worst case
    Image.frombytes("RGB", (4032, 3024), os.urandom(4032 * 3024 * 3)).save(jpeg, "JPEG", quality=100)
    files["jpeg_12mp"] = jpeg
    write_big_png(tmp / "flat-80mp.png", 8944, 8944, orientation=6)
    files["png_80mp_250kb_turned"] = tmp / "flat-80mp.png"
    write_big_png(tmp / "noisy-80mp.png", 8944, 8944, noise_rows=820)
    files["png_80mp_22mb"] = tmp / "noisy-80mp.png"
    write_big_png(tmp / "noisy-49mp.png", 7000, 7000, noise_rows=1050, orientation=6)
    files["png_49mp_22mb_turned"] = tmp / "noisy-49mp.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    photo_like(8064, 6048).save(tmp / "phone-48mp.jpg", "JPEG", quality=90, exif=exif.tobytes())
    files["jpeg_48mp_turned"] = tmp / "phone-48mp.jpg"
    return files


def goal_bytes(upload_bytes: int) -> int:
    from techapi.evidence.images import DEFAULT_MAX_MEGAPIXELS, budget_bytes

    return 3 * upload_bytes + 2 * budget_bytes(DEFAULT_MAX_MEGAPIXELS) + 64 * 1_048_576


def measure(tmp: Path, name: str, path: Path) -> dict:
    """One upload to a server of its own, warmed up with a small photo: memory a previous
    upload left in the process's heap would otherwise hide this one's growth."""
    from tests.media import jpeg

    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")},
           "TECHAPI_INSTANCE_PATH": str(tmp / f"instance-{name}")}
    proc = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = httpx.post(f"{base}/v1/auth/token", json={"username": "demo-tech", "password": "demo"}).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}
        jobs = httpx.get(f"{base}/v1/jobs", headers=h).json()["jobs"]
        httpx.post(f"{base}/v1/jobs/{jobs[0]['serviceJobId']}/documents", headers=h,
                   data={"kind": "PHOTO"}, files={"file": ("w.jpg", io.BytesIO(jpeg()), "image/jpeg")})
        before = vm_hwm_kib(proc.pid)
        with path.open("rb") as f:
            response = httpx.post(f"{base}/v1/jobs/{jobs[1]['serviceJobId']}/documents", headers=h,
                                  data={"kind": "POA" if name.startswith("pdf") else "PHOTO"},
                                  files={"file": (path.name, f, "application/octet-stream")}, timeout=120)
        after = vm_hwm_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    size = path.stat().st_size
    growth, goal = (after - before) * 1024, goal_bytes(size)
    return {"status": response.status_code, "upload_bytes": size,
            "peak_before_mib": round(before / 1024, 1), "peak_after_mib": round(after / 1024, 1),
            "peak_growth_mib": round(growth / 1_048_576, 1), "growth_over_upload": round(growth / size, 2),
            "goal_mib": round(goal / 1_048_576, 1), "growth_over_goal": round(growth / goal, 2), "met": growth < goal}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="techapi-bench-"))
    results = {}
    try:
        files = make_files(tmp)
        for name, path in files.items():
            r = results[name] = measure(tmp, name, path)
            print(f"{name}: HTTP {r['status']}, upload {r['upload_bytes'] / 1e6:.1f} MB, peak RSS "
                  f"{r['peak_before_mib']:.0f} -> {r['peak_after_mib']:.0f} MiB, growth {r['peak_growth_mib']:.0f} MiB "
                  f"({r['growth_over_upload']:.2f}x the upload); goal < {r['goal_mib']:.0f} MiB "
                  f"(3x upload + 445 MiB): {r['growth_over_goal']:.2f} of it, {'pass' if r['met'] else 'FAIL'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # about 200 MB of test files and instances
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    failures = sum(not r["met"] for r in results.values())
    print(f"{len(results) - failures} of {len(results)} uploads within the goal: {'pass' if not failures else 'FAIL'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
