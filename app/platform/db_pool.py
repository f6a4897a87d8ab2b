"""The database pool checks a connection before handing it out only when it may have gone stale.

`pool_pre_ping` pings on every checkout: one round trip more for every transaction, on the hot
path of every job. A connection returned to the pool a moment ago is as alive as it was then,
so it is pinged only when it sat idle longer than IDLE_PING_SECONDS. A connection found dead is
reported to the pool as a disconnect: the pool discards it and every other connection of its
generation (they died with the same server) and checks out a fresh one, as `pool_pre_ping` does.
A failure on a connection used without a ping (the server restarted within those seconds) is
still recognised as a disconnect by SQLAlchemy, which invalidates the pool the same way; the
caller sees that one error, as it would see any failure during its transaction.
"""

from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

IDLE_PING_SECONDS = 5.0
RETURNED_AT = "returned_at"  # the key in a connection record's `info`


def ping_stale_connections(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Install the checks on this engine's pool (kept when the engine is disposed)."""

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record) -> None:
        if record is not None:
            record.info[RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        returned_at = record.info.get(RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # new (just connected) or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            alive, cause = False, error
        else:
            cause = None
        if not alive:
            # The reconnected connection is fresh: it must not be pinged again on this checkout.
            record.info.pop(RETURNED_AT, None)
            raise exc.InvalidatePoolError("stale pooled connection") from cause
