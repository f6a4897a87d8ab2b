"""Registration, login, token refresh and the current user."""

from flask_jwt_extended import create_access_token, create_refresh_token, current_user, jwt_required

from app.api.blueprint import Blueprint
from app.errors import Unauthorized
from app.platform.rate_limit import check_login_rate, record_login_failure
from app.schemas.auth import AuthResponseSchema, LoginSchema, RefreshResponseSchema, RegisterSchema, UserSchema
from app.schemas.common import ErrorSchema
from app.users import service as users

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


def _tokens_for(user) -> dict:
    identity = str(user.id)
    return {
        "user": users.serialize_user(user),
        "accessToken": create_access_token(identity=identity, additional_claims={"role": user.role}),
        "refreshToken": create_refresh_token(identity=identity),
    }


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, AuthResponseSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Email already registered")
@blp.doc(security=[])
def register(data):
    """Create an account (with the six default notification preferences)."""
    user = users.create_user(data["email"], data["password"], data.get("name"))
    return _tokens_for(user)


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, AuthResponseSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Bad credentials")
@blp.alt_response(429, schema=ErrorSchema, description="Too many attempts")
@blp.doc(security=[])
def login(data):
    """Exchange email and password for an access and a refresh token."""
    check_login_rate(data["email"])
    try:
        user = users.authenticate(data["email"], data["password"])
    except Unauthorized:
        # Only bad credentials count: an outage must not lock accounts out.
        record_login_failure(data["email"])
        raise
    return _tokens_for(user)


@blp.route("/refresh", methods=["POST"])
@blp.response(200, RefreshResponseSchema)
@blp.alt_response(401, schema=ErrorSchema)
@jwt_required(refresh=True)
def refresh():
    """A new access token, for the refresh token given as bearer."""
    return {
        "accessToken": create_access_token(identity=str(current_user.id), additional_claims={"role": current_user.role})
    }


@blp.route("/me", methods=["GET"])
@blp.response(200, UserSchema)
@blp.alt_response(401, schema=ErrorSchema)
@jwt_required()
def me():
    """The authenticated user."""
    return users.serialize_user(current_user)
