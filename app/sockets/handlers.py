"""Socket.IO handlers: authenticate (on connect or by event), subscribe to jobs, leave them.

A socket joins its user's room only once authenticated, so until then it receives nothing.
Handlers never raise to the client: bad input gets an error acknowledgement."""
from __future__ import annotations

import logging
import uuid

from flask import current_app, request
from flask_jwt_extended import decode_token
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from app.services import metrics
from app.services.realtime import job_room, user_room
from app.sockets import presence

log = logging.getLogger(__name__)


def _verify(token) -> tuple[str, float] | None:
    """(user id, expiry) for a valid access token of an existing user, else None."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        claims = decode_token(token)
    except Exception:
        return None
    if claims.get("type") != "access":
        return None
    from app.services.users import get_user

    try:
        user = get_user(uuid.UUID(str(claims.get("sub"))))
    except ValueError:
        return None
    if user is None:
        return None
    return str(user.id), float(claims["exp"])


def _authenticate(sid: str, token) -> str | None:
    verified = _verify(token)
    if verified is None:
        return None
    user_id, expires_at = verified
    state = presence.sockets.setdefault(sid, presence.SocketState())
    state.user_id, state.expires_at = user_id, expires_at
    join_room(user_room(user_id))
    return user_id


def _job_id(data) -> uuid.UUID | None:
    if not isinstance(data, dict):
        return None
    try:
        return uuid.UUID(str(data.get("jobId")))
    except ValueError:
        return None


def register(socketio) -> None:
    @socketio.on("connect")
    def on_connect(auth=None):
        presence.ensure_loop(socketio, current_app._get_current_object())
        sid = request.sid
        token = auth.get("token") if isinstance(auth, dict) else None
        if token is None:
            presence.sockets[sid] = presence.SocketState()  # must authenticate within the timeout
            return True
        user_id = _authenticate(sid, token)
        if user_id is None:
            raise ConnectionRefusedError({"message": "unauthorized"})
        socketio.emit("authenticated", {"userId": user_id}, to=sid)
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        presence.sockets.pop(request.sid, None)

    @socketio.on("authenticate")
    def on_authenticate(data=None):
        sid = request.sid
        user_id = _authenticate(sid, data.get("token") if isinstance(data, dict) else None)
        if user_id is None:
            socketio.emit("unauthorized", {"message": "Invalid or expired token"}, to=sid)
            presence.sockets.pop(sid, None)
            socketio.server.disconnect(sid)
            return {"ok": False, "error": "unauthorized"}
        socketio.emit("authenticated", {"userId": user_id}, to=sid)
        return {"ok": True, "userId": user_id}

    @socketio.on("subscribe:job")
    def on_subscribe(data=None):
        state = presence.sockets.get(request.sid)
        if state is None or state.user_id is None:
            return {"ok": False, "error": "unauthorized"}
        job_id = _job_id(data)
        if job_id is None:
            return {"ok": False, "error": "invalid_payload"}
        from app.extensions import db
        from app.models import Job
        from app.services.events import serialize_job

        job = db.session.get(Job, job_id)
        if job is None or str(job.user_id) != state.user_id:
            return {"ok": False, "error": "not_found"}
        join_room(job_room(job_id))
        return {"ok": True, "job": serialize_job(job)}

    @socketio.on("unsubscribe:job")
    def on_unsubscribe(data=None):
        state = presence.sockets.get(request.sid)
        if state is None or state.user_id is None:
            return {"ok": False, "error": "unauthorized"}
        job_id = _job_id(data)
        if job_id is None:
            return {"ok": False, "error": "invalid_payload"}
        leave_room(job_room(job_id))
        return {"ok": True}

    @socketio.on_error_default
    def on_error(exc):
        log.exception("socket handler failed")
        metrics.incr("websocket_errors_total")
        try:
            from app.extensions import db

            db.session.rollback()
        except Exception:
            pass
        return {"ok": False, "error": "internal_error"}
