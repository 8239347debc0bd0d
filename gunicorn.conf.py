"""gunicorn settings for techapi's web processes (`gunicorn -c gunicorn.conf.py app:app`).

Sized for a mobile API: threads for requests that wait on the database, long
timeouts for uploads over one bar of signal, graceful shutdown for deploys, and
only the load balancer's X-Forwarded-* headers trusted.
"""

import multiprocessing
import os
import tempfile

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# Processes: WEB_CONCURRENCY, else two per core. Threads per process: WEB_THREADS (default 4).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
threads = int(os.environ.get("WEB_THREADS", "4"))
# A 25 MB photo at 200 kbit/s takes about 17 minutes; the body is spooled by
# gunicorn's worker thread, so the timeout guards hung workers, not slow clients.
# One setting for both: after this long an unanswered Idempotency-Key is taken
# for dead and a retry runs again (WEB_TIMEOUT is its older name).
_timeout = os.environ.get("TECHAPI_REQUEST_TIMEOUT_SECONDS") or os.environ.get("WEB_TIMEOUT") or "120"
timeout = int(_timeout) if _timeout.isdigit() else 120
# Read by the app in every worker, which refuses a bad value with a message naming it.
os.environ["TECHAPI_REQUEST_TIMEOUT_SECONDS"] = _timeout
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
# Recycle processes now and then so a slow leak cannot grow forever (0: never). Starting
# a techapi process costs 1.2-2.7 s of CPU (imports, create_app), while a phone's poll
# (a 304, a delta with nothing new) takes about 0.3-0.8 ms: every 20,000 requests the
# start was a sixth of a poll's CPU, every 100,000 it is a thirtieth (bench/load.py
# measures it per scenario). At 1,000 polls/s over 4 processes each is still replaced every ~7 min.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("WEB_MAX_REQUESTS_JITTER", "10000"))
# Only these addresses may set X-Forwarded-* (comma-separated; the load balancer).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None  # techapi logs every request itself, as JSON with its request ID
errorlog = "-"
loglevel = os.environ.get("TECHAPI_LOG_LEVEL", "info").lower()

# The workers' heartbeat (gunicorn touches a file per worker, every loop) in memory where the machine
# has it: gunicorn's docs warn that on a disk-backed directory this can block the worker, and /tmp is on
# disk on many hosts, this one included.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
# One Prometheus registry across the worker processes. On disk: its files outlive the workers that
# wrote them, and a full /dev/shm (64 MB in a default container) would kill a worker writing one.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="techapi-metrics-"))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Once the app is loaded: keep its objects (modules, the app, the schemas; about 180,000)
    out of the garbage collector's reach. A full collection walked them all: 75 ms of CPU on a
    quiet 2-core host (0.002 ms once frozen), every thread of the process waiting meanwhile,
    longer under load. Only objects made after this are collected, as before."""
    import gc

    gc.freeze()
