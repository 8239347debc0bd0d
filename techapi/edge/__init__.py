"""The edge of every request: what a request must be before any view, schema,
database or worker sees it. Malformed input ends here as a 4xx in the usual error
body; past the edge, code may take its input as well-formed."""

from techapi.edge.requests import init_app

__all__ = ["init_app"]
