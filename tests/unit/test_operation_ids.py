"""The contract the phone team generates its client from: every operation named and described.

Reads the committed document, which test_committed_openapi_document_matches_the_code keeps equal to the code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations() -> list[tuple[str, dict]]:
    spec = json.loads(DOCUMENT.read_text())
    return [(f"{method.upper()} {path}", op) for path, ops in spec["paths"].items()
            for method, op in ops.items() if method in METHODS]


def test_every_operation_has_an_operation_id_a_generator_can_name_a_method_after():
    unnamed = [name for name, op in operations() if not op.get("operationId")]
    assert unnamed == [], "add @blp.doc(operationId=...) to these views"
    badly_named = [(name, op["operationId"]) for name, op in operations()
                   if not re.fullmatch(r"[a-z][A-Za-z0-9]*", op["operationId"])]
    assert badly_named == [], "lowerCamelCase: it becomes a method name in Kotlin, Swift and TypeScript"


def test_no_two_operations_share_an_operation_id():
    counts = Counter(op["operationId"] for _, op in operations() if op.get("operationId"))
    assert [op_id for op_id, n in counts.items() if n > 1] == []


def test_every_operation_has_a_description_beyond_its_summary():
    undescribed = [name for name, op in operations()
                   if not op.get("description", "").strip() or op["description"] == op.get("summary")]
    assert undescribed == [], "give the view's docstring a second paragraph"
