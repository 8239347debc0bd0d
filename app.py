"""WSGI entry point: `gunicorn -c gunicorn.conf.py app:app`.

create_app refuses an outdated schema; the cheap configuration checks run here
too, so a misconfigured web process stops at start-up with a clear message.
"""

from techapi import create_app
from techapi.checks import cheap

app = create_app()
_problems = [c for c in cheap(app.extensions["techapi"]) if not c.ok]
if _problems:
    raise SystemExit("; ".join(f"{c.name}: {c.message}" for c in _problems))
