"""POST /v1/sync/actions: the phone's offline queue, replayed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.auth.models import Role
from techapi.context import deps
from techapi.db import get_session
from techapi.idempotency.decorator import idempotent
from techapi.offline.schemas import BatchSchema, ReplaySchema
from techapi.offline.services import Replay, replay

blp = Blueprint("offline", __name__, url_prefix="/v1/sync", description="Offline replay")
answers = error_answers(blp, {403: "Not a technician"})


@blp.route("/actions")
class Actions(MethodView):
    @blp.doc(operationId="replayOfflineActions")
    @login_required(Role.TECHNICIAN)
    @idempotent
    @blp.arguments(BatchSchema)
    @blp.response(200, ReplaySchema)
    @answers(401, 403)
    def post(self, body: dict[str, Any]) -> Replay:
        """Replay actions recorded offline, in order, each once (answers per action)

        A technician's phone sends what it recorded offline (starts, finishes, closure requests), in order, with its
        own clock's time of sending; each action runs once per key and gets its own answer (applied, duplicate or
        rejected with a reason). A device clock far off is corrected.
        """
        return replay(deps(), get_session(), current_user(), body["sentAt"], body["actions"])
