"""The task ids and delivery tags of broker messages: random version 4 UUIDs, spelled as
`str(uuid.uuid4())` spells them."""

from __future__ import annotations

import uuid

from app.platform.celery_messages import random_ids


def test_each_is_a_random_version_4_uuid_in_its_usual_spelling():
    ids = random_ids(2000)
    assert len(ids) == 2000
    assert len(set(ids)) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_every_bit_that_is_not_fixed_varies():
    ids = [uuid.UUID(text).int for text in random_ids(500)]
    fixed = (0xF << 76) | (0x3 << 62)  # the version and variant bits
    varying = 0
    for value in ids:
        varying |= value ^ ids[0]
    assert varying == ((1 << 128) - 1) & ~fixed


def test_none_asked_none_given():
    assert random_ids(0) == []
