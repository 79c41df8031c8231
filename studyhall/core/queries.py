"""Small query helpers for the hot paths."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    ModelIterable,
    get_related_populators,
)
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)

# The placeholder a KeyedRead by id is compiled with: no row has a negative id, and it is in
# range of every integer column (Django compiles an out-of-range value as no match at all).
INT_KEY = -1_999_999_937
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def one_or_none(queryset: QuerySet[M]) -> M | None:
    """The row that a query by a unique key finds, or None.

    `.first()` orders by the model's ordering (or the primary key) before it takes one row.
    For a query that can match at most one row that order changes nothing, yet compiling it
    costs Python time: on the completion's wide locked read, a sixth of the request's."""
    for row in queryset.order_by()[:1]:
        return row
    return None


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    key_positions: tuple[int, ...]
    for_update: bool
    model: type[Model]
    fields_start: int
    fields_end: int
    init_list: list[str]
    populators: list[Any]
    annotations: dict[str, int]
    # (column, converters, expression) for each column Django converts from the database.
    converters: list[tuple[int, list[Any], Any]]


class KeyedRead(Generic[M]):
    """A read by one key (an id, a digest) whose SQL is compiled once per process.

    Django compiles a queryset's SQL every time it runs. For a wide read on a hot path (joins
    from `select_related`, annotated subqueries) that compiling is most of the read's Python
    time — on a completion, more than the rest of its reads together. Here `build(key)` makes
    the queryset; it is built and compiled once, with a placeholder key, and each call runs
    that SQL with its own key and makes the instances as the queryset would: the same
    fields, related objects and annotations (pinned by `tests/test_queries.py`).

    `build` must filter by its key alone and be the same for every key (no branching on it),
    and return model instances (no values(), prefetch_related() or related managers)."""

    def __init__(self, build: Callable[[Any], QuerySet[M]], *, placeholder: int | str) -> None:
        self._build = build
        self._placeholder = placeholder
        self._plans: dict[tuple[str, bool], _Plan] = {}
        self._lock = threading.Lock()

    def one(self, key: int | str, *, using: str = "default") -> M | None:
        """The instance with this key, or None (the query is unordered and takes one row)."""
        rows = self._run(key, using=using, single=True)
        return rows[0] if rows else None

    def all(self, key: int | str, *, using: str = "default") -> list[M]:
        """Every instance the queryset finds for this key, in its order."""
        return self._run(key, using=using, single=False)

    def _run(self, key: int | str, *, using: str, single: bool) -> list[M]:
        if type(key) is not type(self._placeholder):
            raise TypeError(f"a {type(self._placeholder).__name__} key is read, not {key!r}")
        if isinstance(key, int) and not BIGINT_MIN <= key <= BIGINT_MAX:
            # No integer column holds it (Django compiles such a lookup as no match, too).
            return []
        plan = self._plans.get((using, single)) or self._compile(using, single)
        connection = connections[using]
        if plan.for_update and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(plan.params)
        for position in plan.key_positions:
            params[position] = key
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        found: list[M] = []
        for fetched in rows:
            row = list(fetched)
            for column, converters, expression in plan.converters:
                value = row[column]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[column] = value
            instance = plan.model.from_db(
                using, plan.init_list, row[plan.fields_start : plan.fields_end]
            )
            for populator in plan.populators:
                populator.populate(row, instance)
            for name, column in plan.annotations.items():
                setattr(instance, name, row[column])
            found.append(instance)  # type: ignore[arg-type]
        return found

    def _compile(self, using: str, single: bool) -> _Plan:
        with self._lock:
            if (plan := self._plans.get((using, single))) is not None:
                return plan
            queryset = self._build(self._placeholder)
            extras: Any = queryset
            if (
                queryset._iterable_class is not ModelIterable
                or extras._prefetch_related_lookups
                or extras._known_related_objects
            ):
                raise ValueError("a KeyedRead builds a plain queryset of model instances")
            if single:
                queryset = queryset.order_by()[:1]
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            positions = tuple(
                i
                for i, value in enumerate(params)
                if type(value) is type(self._placeholder) and value == self._placeholder
            )
            if not positions:
                raise ValueError("the queryset does not filter by its key")
            select, klass_info = compiler.select, compiler.klass_info
            assert klass_info is not None
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
            plan = _Plan(
                sql=sql,
                params=tuple(params),
                key_positions=positions,
                for_update=bool(queryset.query.select_for_update)
                and compiler.connection.features.has_select_for_update,
                model=klass_info["model"],
                fields_start=start,
                fields_end=end,
                init_list=[column[0].target.attname for column in select[start:end]],
                populators=get_related_populators(klass_info, select, using),
                annotations=dict(compiler.annotation_col_map or {}),
                converters=[
                    (column, list(found[0]), found[1]) for column, found in converters.items()
                ],
            )
            self._plans[(using, single)] = plan
            return plan
