"""Soak: mixed traffic (job lists, time records, uploads, closures and approvals,
webhooks) for ten minutes against gunicorn web processes and a separate worker,
on the embedded SQLite database and the sandbox. Reports the status codes (goal:
no 5xx) and each process's resident memory after warm-up and at the end (goal:
flat).

Usage: python bench/soak.py [--minutes 10] [--json out.json]
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from common import ROOT, arguments, report, write

from techapi.config import decode_webhook_secret
from techapi.webhooks.signature import sign
from tests.media import jpeg

SECRET = "whsec_" + base64.b64encode(b"soak-webhook-secret-123").decode()


def rss_mib(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None  # the process is gone
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="techapi-soak-"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("TECHAPI_", "PROMETHEUS_"))},
           "TECHAPI_INSTANCE_PATH": str(tmp), "TECHAPI_LOG_LEVEL": "WARNING", "TECHAPI_WEBHOOK_SECRET": SECRET,
           "PORT": str(free_port()), "WEB_CONCURRENCY": "2", "TECHAPI_TASK_BACKOFF_SECONDS": "1",
           # No recycling of web processes: a leak must show, not be hidden by restarts.
           "WEB_MAX_REQUESTS": "0"}
    # The embedded defaults: `techapi serve` migrates and creates the demo accounts; then stop it.
    subprocess.run([sys.executable, "-c", "from techapi.cli import main; main()", "db", "upgrade"],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    boot_port = free_port()
    boot = subprocess.Popen([sys.executable, "-m", "techapi", "serve", "--port", str(boot_port)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{boot_port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    boot.send_signal(signal.SIGTERM)
    boot.wait(timeout=30)

    gunicorn = Path(sys.executable).parent / "gunicorn"
    web = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "app:app"], env=env, cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "techapi", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{env['PORT']}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def token(client: httpx.Client, user: str) -> dict[str, str]:
        body = client.post(f"{base}/v1/auth/token", json={"username": user, "password": "demo"}).json()
        return {"Authorization": f"Bearer {body['access_token']}"}

    def traffic(seed: int) -> None:
        rng = random.Random(seed)
        client = httpx.Client(timeout=60)
        tech, boss = token(client, "demo-tech"), token(client, "demo-supervisor")
        while not stop.is_set():
            jobs = client.get(f"{base}/v1/jobs", headers=tech).json().get("jobs") or []
            if not jobs:  # e.g. just after midnight, before the worker synced the new day
                time.sleep(1)
                continue
            job = rng.choice(jobs)
            job_id, start = job["serviceJobId"], job["appointment"]["start"]
            response = one_call(client, rng, tech, boss, job_id, start)
            with lock:
                statuses[response.status_code] += 1

    def one_call(client: httpx.Client, rng: random.Random, tech: dict, boss: dict, job_id: str,
                 start: str) -> httpx.Response:
        kind = rng.randrange(7)
        if kind == 0:
            return client.get(f"{base}/v1/jobs/{job_id}", headers=tech)
        if kind == 1:
            return client.post(f"{base}/v1/jobs/{job_id}/start", json={"at": start}, headers=tech)
        if kind == 2:
            photo = io.BytesIO(jpeg(color=(rng.randrange(256), 9, 9)))
            return client.post(f"{base}/v1/jobs/{job_id}/documents", headers=tech, data={"kind": "POA"},
                               files={"file": ("p.jpg", photo, "image/jpeg")})
        if kind == 3:
            return client.post(f"{base}/v1/jobs/{job_id}/closure", headers=tech)
        if kind == 4:
            return client.post(f"{base}/v1/jobs/{job_id}/closure/approve", headers=boss)
        if kind == 5:
            return client.get(f"{base}/v1/closures", headers=boss)
        return webhook(client, rng, job_id)

    def webhook(client: httpx.Client, rng: random.Random, job_id: str) -> httpx.Response:
        body = json.dumps({"type": "job.unknown_kind", "timestamp": "t", "data": {"serviceJobId": job_id}}).encode()
        webhook_id, ts = f"soak-{rng.getrandbits(64)}", int(time.time())
        return client.post(f"{base}/v1/webhooks/field-app", content=body, headers={
            "webhook-id": webhook_id, "webhook-timestamp": str(ts), "content-type": "application/json",
            "webhook-signature": sign(decode_webhook_secret(SECRET), webhook_id, ts, body)})

    try:
        result = run_traffic(args, web, worker, base, traffic, statuses)
    finally:
        stop.set()
        for proc in (web, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)
    write(args.json, [result])


def run_traffic(args, web, worker, base, traffic, statuses) -> dict:
    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    total = args.minutes * 60
    warm = min(60.0, total / 5)
    time.sleep(warm)
    processes = {"gunicorn master": web.pid, "worker": worker.pid}
    processes.update({f"gunicorn worker {i}": pid for i, pid in enumerate(children(web.pid))})
    start_rss = {name: rss_mib(pid) for name, pid in processes.items()}
    time.sleep(total - warm)
    end_rss = {name: rss_mib(pid) for name, pid in processes.items()}
    assert web.poll() is None and worker.poll() is None, "a process died during the soak"
    five_xx = sum(n for code, n in statuses.items() if code >= 500)
    alive = [n for n in processes if start_rss[n] is not None and end_rss[n] is not None]
    growth = max(end_rss[n] - start_rss[n] for n in alive)
    result = report(f"soak, {args.minutes:g} minutes", growth, "no 5xx, memory flat (growth under 10 MiB)",
                    five_xx == 0 and growth < 10, requests=sum(statuses.values()),
                    statuses=dict(sorted(statuses.items())),
                    rss_after_warm_up_mib={k: v and round(v, 1) for k, v in start_rss.items()},
                    rss_at_end_mib={k: v and round(v, 1) for k, v in end_rss.items()})
    return result


if __name__ == "__main__":
    main()
