"""The exported OpenAPI document, byte-for-byte what `techapi openapi export` writes."""

from __future__ import annotations

import json

from flask import Flask


def spec_dict(app: Flask) -> dict:
    with app.app_context():
        return app.extensions["techapi.api"].spec.to_dict()


def spec_json(app: Flask) -> str:
    return json.dumps(spec_dict(app), indent=2, sort_keys=True) + "\n"
