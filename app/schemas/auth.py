"""Account shapes: registration, login, the user, tokens."""

from marshmallow import Schema, fields, validate

from app.schemas.common import AnyText


class Password(AnyText):
    """A password: only its hash is stored, so any character is allowed."""


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=320))
    password = Password(required=True, load_only=True, validate=validate.Length(min=8, max=256))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class LoginSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    password = Password(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class UserSchema(Schema):
    id = fields.String()
    email = fields.String()
    name = fields.String(allow_none=True)
    role = fields.String()
    createdAt = fields.String()


class AuthResponseSchema(Schema):
    user = fields.Nested(UserSchema)
    accessToken = fields.String()
    refreshToken = fields.String()


class RefreshResponseSchema(Schema):
    accessToken = fields.String()
