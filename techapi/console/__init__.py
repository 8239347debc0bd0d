"""The supervisor console: server-rendered pages under /console on the API's own
accounts, services and rules (see pages.py for what every page shares)."""

from techapi.console import dispatch, documents, performance, routes, time_off  # noqa: F401  (their views join the blueprint)
from techapi.console.pages import blp

__all__ = ["blp"]
