"""Peak memory of a web process while it receives and processes large uploads.

Starts `techapi serve` on the embedded defaults in a subprocess, uploads files
of about 25 MB through real HTTP (streamed from disk by the client), and reads
the server's peak resident set (VmHWM) before and after each upload. The ratio
printed is the growth of the peak divided by the size of the upload: below 1
means the body was never held in memory whole.

Usage: python bench/upload_memory.py [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
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
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="techapi-bench-"))
    files = make_files(tmp)
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TECHAPI_")},
           "TECHAPI_INSTANCE_PATH": str(tmp / "instance")}
    proc = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    results = {}
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
        # Warm up every code path once with a small photo.
        from tests.media import jpeg

        httpx.post(f"{base}/v1/jobs/{jobs[0]['serviceJobId']}/documents", headers=h,
                   data={"kind": "PHOTO"}, files={"file": ("w.jpg", io.BytesIO(jpeg()), "image/jpeg")})
        for i, (name, path) in enumerate(files.items()):
            before = vm_hwm_kib(proc.pid)
            with path.open("rb") as f:
                response = httpx.post(f"{base}/v1/jobs/{jobs[i + 1]['serviceJobId']}/documents", headers=h,
                                      data={"kind": "POA" if name.startswith("pdf") else "PHOTO"},
                                      files={"file": (path.name, f, "application/octet-stream")}, timeout=120)
            after = vm_hwm_kib(proc.pid)
            size = path.stat().st_size
            growth = (after - before) * 1024
            results[name] = {"status": response.status_code, "upload_bytes": size,
                             "peak_before_mib": round(before / 1024, 1), "peak_after_mib": round(after / 1024, 1),
                             "peak_growth_mib": round(growth / 1_048_576, 1),
                             "growth_over_upload": round(growth / size, 2)}
            print(f"{name}: HTTP {response.status_code}, upload {size / 1e6:.1f} MB, peak RSS "
                  f"{before / 1024:.0f} -> {after / 1024:.0f} MiB (growth {growth / size:.2f}x the upload)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
