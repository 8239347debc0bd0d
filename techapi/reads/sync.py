"""GET /v1/sync/changes: the offline-first phone's delta feed (read side)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from techapi.apidoc import error_answers
from techapi.auth.guard import current_user, login_required
from techapi.context import deps
from techapi.db import get_session
from techapi.reads import changes
from techapi.reads.schemas import ChangesQuerySchema, ChangesSchema

blp = Blueprint("changes", __name__, url_prefix="/v1/sync", description="Delta feed for offline-first apps")
answers = error_answers(blp)


@blp.route("/changes")
class Changes(MethodView):
    @blp.doc(operationId="listChanges")
    @login_required(reads_only=True)
    @blp.arguments(ChangesQuerySchema, location="query")
    @blp.response(200, ChangesSchema)
    @answers(401, 410, e410="The cursor expired (older than the offline window) or is not valid for this caller "
                            "or this server: sync again without `since`")
    def get(self, args: dict[str, Any]) -> changes.Changes:
        """What changed in my offline window since my last sync

        The caller's jobs of today and the next `TECHAPI_OFFLINE_WINDOW_DAYS` days (7 by default) that changed since
        `since`, as list entries, with the IDs of jobs that left the caller's view and a new cursor. Without
        `since`, or with a cursor of an earlier day, the answer holds the whole window (`full`). Pages hold at most
        200 jobs; while `hasMore` is true, call again at once with the new cursor. An expired or foreign cursor is
        410: sync again without `since`.
        """
        d = deps()
        return changes.delta(get_session(), current_user(), args.get("since"), d.clock, d.settings)
