"""Celery task messages for the Redis transport, built in this process, so that a job's hand-off
rides in the Redis pipeline of the commit that created it (app.platform.redis_writes) instead
of costing a publish of its own through kombu (a client, a connection from the pool and a round
trip per message).

Celery builds the message itself (`app.amqp.create_task_message`: protocol 2's headers, body
and properties, exactly as `send_task` passes them), once per task name, queue, priority and
time limits; each message then copies that template with its own task id, arguments and
delivery tag (building a message through Celery costs more than the rest of a job's hand-off,
and a batch hands off a thousand). Written here is only the envelope that kombu's Redis
transport LPUSHes (`Channel.prepare_message`, then `basic_publish` on the default exchange): the
body JSON-encoded and base64'd, the delivery info, a delivery tag, and the list of the message's
priority (`queue` for 0, `queue:N` otherwise, with the `sep` and `priority_steps` of
celeryconfig's transport options). tests/services/test_celery_messages.py compares both the
first and a later message with what kombu writes for the same task.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import uuid
from bisect import bisect
from dataclasses import dataclass

from celery.utils.saferepr import saferepr
from flask import current_app

DELIVERY_MODE_PERSISTENT = 2  # kombu's default for a durable exchange


# The per-message values, as placeholders in a template's serialised envelope.
_SLOTS = ("task_id", "argsrepr", "body", "delivery_tag")
_SLOT = re.compile('"@@(' + "|".join(_SLOTS) + ')@@"')


@dataclass(frozen=True)
class _Template:
    """What every message of one task name, queue, priority and time limits shares."""

    key: str  # the Redis list
    envelope: tuple[str, ...]  # the serialised message: literal text and slot names, alternating
    embed: str  # the body's third part (callbacks, errbacks, chain, chord), serialised
    argsrepr_maxsize: int
    repr_maxlevels: int


def task_message(name: str, args: list, queue: str, priority: int, time_limit: int, soft_time_limit: int):
    """(Redis list key, serialised message) of one task on `queue` at `priority` (0..9, 0 first),
    with its time limits in seconds."""
    key, [message] = task_messages(name, [args], queue, priority, time_limit, soft_time_limit)
    return key, message


def task_messages(
    name: str, args_of_each: list[list], queue: str, priority: int, time_limit: int, soft_time_limit: int
) -> tuple[str, list[str]]:
    """(Redis list key, serialised messages): one task message per list of arguments, all of the
    same task name, queue, priority and time limits (a batch's jobs of one type and options).

    The template's envelope was serialised once with placeholders; a message only fills them in
    (serialising the twenty-odd headers again for each of a batch's thousand messages cost more
    than the rest of its hand-off). The standard library's encoder, not kombu's `dumps`: all of it
    is plain JSON, and kombu's builds an encoder object per call."""
    celery = current_app.extensions["celery"]
    template = _template(celery, name, queue, priority, time_limit, soft_time_limit)
    envelope = template.envelope
    ids = iter(random_ids(2 * len(args_of_each)))  # a task id and a delivery tag each
    messages = []
    for args in args_of_each:
        body = f"[{json.dumps(args)}, {{}}, {template.embed}]"  # json.dumps([args, {}, embed]), spelled out
        # A uuid's text and base64 need no escaping in JSON: quoted as they are.
        values = {
            "task_id": f'"{next(ids)}"',
            "argsrepr": json.dumps(_argsrepr(args, template)),
            "body": f'"{base64.b64encode(body.encode()).decode()}"',
            "delivery_tag": f'"{next(ids)}"',
        }
        messages.append("".join(values[part] if index % 2 else part for index, part in enumerate(envelope)))
    return template.key, messages


# The variant of RFC 4122 in a version 4 id's 17th hex digit: its two top bits are 10.
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def random_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, as `str(uuid.uuid4())` spells them, from one read
    of the system's randomness: uuid4() reads it once per id and builds an object only to print
    it, which cost half of a message's making."""
    digits = os.urandom(16 * count).hex()
    return [
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:]}"
        for h in (digits[start : start + 32] for start in range(0, len(digits), 32))
    ]


def _argsrepr(args: list, template: _Template) -> str:
    """Celery's `argsrepr` header: `saferepr` of the arguments, which for a job's id (a short
    string) is its plain `repr`, at a fraction of the cost."""
    if all(type(arg) is str for arg in args):
        plain = repr(args)
        if len(plain) <= template.argsrepr_maxsize:
            return plain
    return saferepr(args, template.argsrepr_maxsize, maxlevels=template.repr_maxlevels)


@functools.lru_cache(maxsize=512)
def _template(celery, name: str, queue: str, priority: int, time_limit: int, soft_time_limit: int) -> _Template:
    """Celery's own message for these, as the template of every later one."""
    amqp = celery.amqp
    headers, properties, body, _sent_event = amqp.create_task_message(
        str(uuid.uuid4()),
        name,
        [],
        {},
        reply_to=celery.thread_oid,
        create_sent_event=False,
        ignore_result=None,  # as send_task leaves it: the task's own setting (celeryconfig ignores results)
        time_limit=time_limit,
        soft_time_limit=soft_time_limit,
    )
    options = celery.conf.broker_transport_options
    step = _priority_step(priority, _priority_steps(options))
    properties = {
        **properties,
        "delivery_mode": DELIVERY_MODE_PERSISTENT,
        "delivery_info": {"exchange": "", "routing_key": queue},
        "priority": priority,
        "body_encoding": "base64",
    }
    placeholders = {slot: f"@@{slot}@@" for slot in _SLOTS}
    message = {
        "body": placeholders["body"],
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            **headers,
            "id": placeholders["task_id"],
            "root_id": placeholders["task_id"],
            "argsrepr": placeholders["argsrepr"],
        },
        "properties": {
            **properties,
            "correlation_id": placeholders["task_id"],
            "delivery_tag": placeholders["delivery_tag"],
        },
    }
    return _Template(
        key=priority_list(queue, step, options),
        envelope=tuple(_SLOT.split(json.dumps(message))),
        embed=json.dumps(body[2]),
        argsrepr_maxsize=amqp.argsrepr_maxsize,
        repr_maxlevels=celery.conf.task_repr_maxlevels,
    )


def priority_list(queue: str, step: int, transport_options: dict) -> str:
    """The Redis list of `queue`'s messages at this priority step (kombu's `Channel._q_for_pri`)."""
    return f"{queue}{transport_options.get('sep', chr(6) + chr(22))}{step}" if step else queue


def priority_lists(queue: str, transport_options: dict) -> list[str]:
    """Every Redis list that holds `queue`'s messages, one per priority step."""
    return [priority_list(queue, step, transport_options) for step in _priority_steps(transport_options)]


def _priority_steps(transport_options: dict) -> list[int]:
    return transport_options.get("priority_steps", [0, 3, 6, 9])  # kombu's default


def _priority_step(priority: int, steps: list[int]) -> int:
    """The step whose list holds a message of this priority (kombu's `Channel.priority`)."""
    return steps[bisect(steps, priority) - 1]
