"""How a sandbox handler is declared and how it answers early.

The WSGI core (app.py) and the handler families meet here rather than in each
other, so the families never import the core: they raise Reply, it responds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from techapi.spapi.sandbox import rules

# handler(sandbox, request, **path arguments): the core adds the headers and counts the call.
OperationHandler = Callable[..., tuple[int, Any]]
# handler(sandbox, request, **path arguments): the handler builds the whole response.
EndpointHandler = Callable[..., Response]


@dataclass(frozen=True)
class Operation:
    """An SP-API operation: the access token, its usage plan and injected faults apply."""

    name: str  # the model's operationId, which also keys usage plans, faults and statistics
    method: str
    rule: str  # werkzeug syntax: <job_id> stands for the model's {serviceJobId}
    handler: OperationHandler


@dataclass(frozen=True)
class Endpoint:
    """Not SP-API (LWA, the upload URL, test inspection): no token, plan or fault applies."""

    name: str
    method: str
    rule: str
    handler: EndpointHandler


Route = Operation | Endpoint


class Reply(Exception):
    """An answer decided before the handler's end; dispatch sends it as it is."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def fail(status: int, *errors: rules.Error) -> Reply:
    """The model's usual error answer, an object holding an ErrorList."""
    return Reply(status, {"errors": list(errors)})


def quota_exceeded() -> Reply:
    return fail(429, rules.err("You exceeded your quota for the requested resource.", code="QuotaExceeded"))
