"""WSGI entry point: `gunicorn app:app`."""

from techapi import create_app

app = create_app()
