"""A read compiled once reads what its queryset reads, in one statement."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Upper
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from studyhall.core.models import AuditEntry
from studyhall.core.queries import INT_KEY, KeyedRead, one_or_none
from studyhall.testing.factories import make_user

pytestmark = pytest.mark.django_db

BUILT: list[object] = []


def _entry_query(pk: int) -> QuerySet[AuditEntry]:
    BUILT.append(pk)
    return (
        AuditEntry.objects.select_related("actor").annotate(shouted=Upper("action")).filter(pk=pk)
    )


def fields(instance: Any) -> dict[str, Any]:
    return {k: v for k, v in instance.__dict__.items() if k not in {"_state", "_prefetched"}}


def test_one_makes_the_instance_the_queryset_makes() -> None:
    read = KeyedRead(_entry_query, placeholder=INT_KEY)
    actor = make_user()
    entry = AuditEntry.objects.create(
        actor=actor, action="session.completed", data={"minutes": 55, "ids": [3, 1]}
    )

    got = read.one(entry.pk)
    expected = one_or_none(_entry_query(entry.pk))

    assert got is not None and expected is not None
    assert fields(got) == fields(expected)
    assert got.data == {"minutes": 55, "ids": [3, 1]}  # converted from the database's JSON
    assert got.created_at == entry.created_at and got.created_at.tzinfo is not None
    assert got.__dict__["shouted"] == "SESSION.COMPLETED"
    assert got._state.adding is False and got._state.db == "default"
    # The related user came with the row: reading it costs nothing.
    with CaptureQueriesContext(connection) as queries:
        assert fields(got.actor) == fields(expected.actor)
    assert len(queries) == 0


def test_it_compiles_once_and_reads_in_one_statement() -> None:
    read = KeyedRead(_entry_query, placeholder=INT_KEY)
    first = AuditEntry.objects.create(action="a")
    second = AuditEntry.objects.create(action="b")
    BUILT.clear()
    with CaptureQueriesContext(connection) as queries:
        assert read.one(first.pk).action == "a"  # type: ignore[union-attr]
        assert read.one(second.pk).action == "b"  # type: ignore[union-attr]
        assert read.one(second.pk + 1000) is None
    assert BUILT == [INT_KEY]
    assert len(queries) == 3
    assert str(INT_KEY) not in queries.captured_queries[0]["sql"]
    assert str(first.pk) in queries.captured_queries[0]["sql"]


def test_a_key_no_integer_column_holds_matches_nothing() -> None:
    read = KeyedRead(_entry_query, placeholder=INT_KEY)
    with CaptureQueriesContext(connection) as queries:
        assert read.one(10**30) is None
        assert read.all(-(10**30)) == []
    assert len(queries) == 0
    AuditEntry.objects.create(action="a")
    assert read.one(2**63 - 1) is None  # the largest the database takes is read


def test_all_reads_every_row_in_the_querysets_order() -> None:
    by_actor = KeyedRead(
        lambda actor_id: AuditEntry.objects.filter(actor_id=actor_id).order_by("-pk"),
        placeholder=INT_KEY,
    )
    reader, other = make_user(), make_user()
    mine = [AuditEntry.objects.create(actor=reader, action=f"a{i}").pk for i in range(3)]
    AuditEntry.objects.create(actor=other, action="other")

    assert [e.pk for e in by_actor.all(reader.pk)] == sorted(mine, reverse=True)
    assert by_actor.all(reader.pk + other.pk + 1000) == []
    # One row of many, unordered, for `one`.
    assert by_actor.one(reader.pk).pk in mine  # type: ignore[union-attr]


def test_a_string_key() -> None:
    by_action = KeyedRead(
        lambda action: AuditEntry.objects.filter(action=action), placeholder="action-placeholder"
    )
    entry = AuditEntry.objects.create(action="token.issued")
    assert by_action.one("token.issued") == entry
    assert by_action.one("action-placeholder") is None


def test_a_key_of_the_wrong_type_is_refused() -> None:
    read = KeyedRead(_entry_query, placeholder=INT_KEY)
    with pytest.raises(TypeError):
        read.one("1")  # the key is an int
    with pytest.raises(TypeError):
        read.one(True)  # a bool is no id


def test_a_queryset_that_does_not_use_its_key_is_refused() -> None:
    with pytest.raises(ValueError, match="does not filter by its key"):
        KeyedRead(lambda pk: AuditEntry.objects.all(), placeholder=INT_KEY).one(1)


@pytest.mark.parametrize(
    "build",
    [
        lambda pk: AuditEntry.objects.filter(pk=pk).values("action"),
        lambda pk: AuditEntry.objects.filter(pk=pk).prefetch_related("session"),
    ],
    ids=["values", "prefetch"],
)
def test_only_plain_querysets_of_instances(build: Any) -> None:
    with pytest.raises(ValueError, match="plain queryset"):
        KeyedRead(build, placeholder=INT_KEY).one(1)


@pytest.mark.postgres
def test_a_locked_read_needs_a_transaction() -> None:
    locked = KeyedRead(
        lambda pk: AuditEntry.objects.select_for_update().filter(pk=pk), placeholder=INT_KEY
    )
    entry = AuditEntry.objects.create(action="a")
    if not connection.features.has_select_for_update:
        assert locked.one(entry.pk) == entry
        return
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert locked.one(entry.pk) == entry
    assert "FOR UPDATE" in queries.captured_queries[-1]["sql"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_locked_read_outside_a_transaction_is_refused() -> None:
    locked = KeyedRead(
        lambda pk: AuditEntry.objects.select_for_update().filter(pk=pk), placeholder=INT_KEY
    )
    entry = AuditEntry.objects.create(action="a")
    if not connection.features.has_select_for_update:
        pytest.skip("SQLite takes no row locks")
    with pytest.raises(TransactionManagementError):
        locked.one(entry.pk)
