"""ORM queries compiled once per shape, then run with new values.

Django compiles a QuerySet to SQL on every evaluation; for the small grouped reads of the results page that
costs more CPU than the database spends answering them. A query whose shape is fixed (the same lookups, only
the values differ) is built here once with a placeholder in place of each value, compiled, and kept with the
position of each placeholder among its parameters; a later call puts the values in those positions. The SQL is
the ORM's own, so it stays what the QuerySet would run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# Placeholder values no real value takes: text with a NUL (which the database refuses in text, so it can never
# be stored), and integers far below any id or score yet inside a 32-bit column's range (Django answers a
# lookup beyond its column's range with an empty result instead of SQL).
_TEXT = "\x00slot:"
_INTEGER_BASE = -2_000_000_000


class Slots:
    """Hands out placeholders by name while a query is built."""

    def __init__(self) -> None:
        self.names: dict[object, str] = {}

    def text(self, name: str) -> str:
        value = f"{_TEXT}{name}"
        self.names[value] = name
        return value

    def integer(self, name: str) -> int:
        value = _INTEGER_BASE - len(self.names)
        self.names[value] = name
        return value


@dataclass(frozen=True)
class _Slot:
    name: str


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple[Any, ...]  # constants, and _Slot where a value goes

    def params_for(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[param.name] if isinstance(param, _Slot) else param for param in self.params]


def compile_once(build: Callable[[Slots], QuerySet[Any] | tuple[str, Sequence[Any]]]) -> Compiled:
    """``build`` makes the query with ``slots.text(name)`` / ``slots.integer(name)`` where values go (a QuerySet,
    or SQL and parameters it has composed of compiled parts); every placeholder must reach the parameters
    unchanged, as plain lookups pass them."""
    slots = Slots()
    built = build(slots)
    sql, params = built.query.sql_with_params() if isinstance(built, QuerySet) else built
    compiled = []
    seen = set()
    for param in params:
        name = slots.names.get(param) if isinstance(param, str | int) else None
        if name is None:
            compiled.append(param)
        else:
            compiled.append(_Slot(name))
            seen.add(name)
    missing = set(slots.names.values()) - seen
    if missing:
        raise ValueError(f"placeholders not among the query's parameters: {sorted(missing)}")
    return Compiled(sql, tuple(compiled))
