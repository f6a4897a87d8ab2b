"""Extension objects, created unbound: `create_app()` binds them, nothing connects at import."""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.schemas.common import ApiErrorSchema
from app.users.verified_tokens import RememberingJWTManager

# Stable constraint names keep Alembic migrations reviewable and reversible.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after a commit without a reload: state changes are guarded UPDATEs that
# return the fresh row, and code that needs the database's view refreshes explicitly.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
jwt = RememberingJWTManager()  # verifies each access token string once per process


class ServiceApi(Api):
    """flask-smorest documents our error shape as the default error response."""

    ERROR_SCHEMA = ApiErrorSchema


api = ServiceApi()
socketio = SocketIO()
