"""Request and response shapes of the auth endpoints."""

from marshmallow import Schema, fields, validate

from techapi.auth.models import Role


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 1024), load_only=True)


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds until the token expires"})


class MeSchema(Schema):
    username = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": [r.value for r in Role]})
    technicianId = fields.String(allow_none=True, attribute="technician_id")
    storeIds = fields.List(fields.String(), attribute="store_ids")
    timezone = fields.String(required=True, metadata={"description": "Effective time zone for 'today'"})


class MeUpdateSchema(Schema):
    timezone = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "IANA time zone, or null to use the server default"},
    )
