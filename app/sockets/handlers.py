"""Socket.IO handlers: authenticate (on connect or by event), subscribe to jobs, leave them.

A socket joins its user's room only once authenticated, so until then it receives nothing.
Handlers never raise to the client: bad input gets an error acknowledgement, and anything
unexpected an `internal_error` one (see `on_error`)."""

from __future__ import annotations

import logging
import uuid

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from app.extensions import db
from app.jobs.announcements import serialize_job
from app.models import Job
from app.platform import metrics
from app.platform.ownership import is_owned
from app.platform.realtime import job_room, user_room
from app.sockets import presence
from app.sockets.auth import Identity, verify_access_token

log = logging.getLogger(__name__)

# Rooms cost memory on every web process; no screen needs this many live jobs at once.
MAX_SUBSCRIPTIONS = 200
INVALID_TOKEN = "Invalid or expired token"


def register(socketio) -> None:
    """Attach the handlers to the app's `socketio`."""

    @socketio.on("connect")
    def on_connect(auth=None):
        presence.ensure_loop(socketio, current_app._get_current_object())
        sid = request.sid
        token = auth.get("token") if isinstance(auth, dict) else None
        if token is None:
            presence.track_anonymous(sid)
            return True
        try:
            identity = verify_access_token(token)
        except Exception:  # e.g. Postgres unreachable: refuse rather than keep an unknown socket
            log.exception("socket authentication failed")
            raise ConnectionRefusedError("unavailable", {"message": "Service unavailable, try again"}) from None
        if identity is None:
            raise ConnectionRefusedError("unauthorized", {"message": INVALID_TOKEN})
        if not _transport_open(socketio, sid):
            # It left while we waited for Postgres (long-polling clients can: their close comes in on
            # another request). python-socketio does not tidy up after a socket that leaves before
            # its connect handler returns; refusing makes it, and keeps a ghost out of every room.
            raise ConnectionRefusedError("gone")
        _sign_in(sid, identity)
        # The connection is acknowledged only after this handler returns; events sent before that
        # arrive ahead of the client's own 'connect' (or are dropped by some clients), so wait.
        socketio.start_background_task(_announce_when_connected, socketio, sid, identity.user_id)
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_reason):
        presence.forget(request.sid)

    @socketio.on("authenticate")
    def on_authenticate(data=None, *_extra):
        sid = request.sid
        identity = verify_access_token(data.get("token") if isinstance(data, dict) else None)
        if not socketio.server.manager.is_connected(sid, presence.NAMESPACE):
            return None  # it left while we waited for Postgres: nothing to sign in
        if identity is None:
            presence.drop(socketio, sid, ("unauthorized", {"message": INVALID_TOKEN}))
            return None  # the socket is gone: an acknowledgement could not be delivered
        _sign_in(sid, identity)
        _announce(socketio, sid, identity.user_id)
        return {"ok": True, "userId": identity.user_id}

    @socketio.on("subscribe:job")
    def on_subscribe(data=None, *_extra):
        state, job_id, refusal = _job_request(data)
        if refusal is not None:
            return refusal
        if str(job_id) not in state.jobs and len(state.jobs) >= MAX_SUBSCRIPTIONS:
            return _error("too_many_subscriptions")
        job = _own_job(job_id, state.user_id)
        if job is None:
            return _error("not_found")
        join_room(job_room(job_id))
        state.jobs.add(str(job_id))
        # The snapshot is read after joining: a transition committed meanwhile is then in it or
        # delivered as an event (possibly both), never lost between the two.

        db.session.refresh(job)
        return {"ok": True, "job": serialize_job(job)}

    @socketio.on("unsubscribe:job")
    def on_unsubscribe(data=None, *_extra):
        state, job_id, refusal = _job_request(data)
        if refusal is not None:
            return refusal
        leave_room(job_room(job_id))
        state.jobs.discard(str(job_id))
        return {"ok": True}

    @socketio.on_error_default
    def on_error(exc):
        log.error("socket handler failed: %s", exc, exc_info=exc)
        metrics.incr("websocket_errors_total")
        try:
            db.session.rollback()
        except Exception as rollback_exc:
            log.debug("rollback after a socket error failed: %s", rollback_exc)
        return _error("internal_error")


def _sign_in(sid: str, identity: Identity) -> None:
    """Remember who the socket is and put it in its user's room."""
    previous = presence.sockets.get(sid)
    if previous is not None and previous.user_id not in (None, identity.user_id):
        # Another user's token on the same socket: nothing of the first user may follow it.
        leave_room(user_room(previous.user_id))
        for job_id in previous.jobs:
            leave_room(job_room(job_id))
        previous.jobs.clear()
    presence.sign_in(sid, identity.user_id, identity.expires_at)
    join_room(user_room(identity.user_id))


def _transport_open(socketio, sid: str) -> bool:
    server = socketio.server
    transport = server.eio.sockets.get(server.manager.eio_sid_from_sid(sid, presence.NAMESPACE))
    return transport is not None and not (transport.closed or transport.closing)


def _announce(socketio, sid: str, user_id: str) -> None:
    """`authenticated`, straight to this process's socket rather than through Redis."""
    socketio.server.emit("authenticated", {"userId": user_id}, to=sid, namespace=presence.NAMESPACE, ignore_queue=True)


def _announce_when_connected(socketio, sid: str, user_id: str, timeout: float = 5.0) -> None:
    """Send `authenticated` once the server has acknowledged the connection. Under eventlet
    that is already so when this task first runs; real threads may get here earlier."""
    manager = socketio.server.manager
    waited = 0.0
    while manager.is_pre_connected(sid, presence.NAMESPACE) and waited < timeout:
        socketio.sleep(0.01)
        waited += 0.01
    if manager.is_connected(sid, presence.NAMESPACE):
        _announce(socketio, sid, user_id)


def _authenticated_state() -> presence.SocketState | None:
    state = presence.sockets.get(request.sid)
    return state if state is not None and state.user_id is not None else None


def _job_request(data) -> tuple[presence.SocketState | None, uuid.UUID | None, dict | None]:
    """What `subscribe:job` and `unsubscribe:job` ask, checked alike: (the socket's state, the job
    id, None), or the error acknowledgement that refuses it (not signed in comes first)."""
    state = _authenticated_state()
    if state is None:
        return None, None, _error("unauthorized")
    job_id = _job_id(data)
    if job_id is None:
        return state, None, _error("invalid_payload")
    return state, job_id, None


def _own_job(job_id: uuid.UUID, user_id: str):
    """The job if it exists and belongs to the user (another user's job is "not found" too)."""
    job = db.session.get(Job, job_id)
    return job if is_owned(job, uuid.UUID(user_id)) else None


def _job_id(data) -> uuid.UUID | None:
    if not isinstance(data, dict):
        return None
    raw = data.get("jobId")
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _error(code: str) -> dict:
    return {"ok": False, "error": code}
