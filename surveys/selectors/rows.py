"""The two reads every firm request makes, as SQL written once per process.

A logged-in request reads its user (with the firm membership and the firm, surveys/auth_backends.py) and a
round of the firm (with its questionnaire, selectors.assessment_for_user). Through the ORM each read spends
more CPU compiling the query than the database spends answering it (about 0.5 and 0.7 ms of a 5 ms
autosave, make bench); here the SELECT is written once from the models' own fields and each row becomes
the same model instances the ORM would build (Model.from_db), with the joined ones cached on them as
select_related would leave them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model

from ..models import Assessment, Enterprise, Membership, Questionnaire

M = TypeVar("M", bound=Model)


def _columns(model: type[Model], alias: str) -> str:
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _converters(model: type[Model]) -> tuple[tuple[int, Any, tuple[Any, ...]], ...]:
    """(position, column, converters) of the concrete fields whose database values the ORM converts (the
    backend's and the field's from_db_value: SQLite's dates and booleans, JSON), as its compiler does."""
    found = []
    for position, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            found.append((position, column, tuple(converters)))
    return tuple(found)


def _instance(model: type[M], row: Sequence[Any], start: int) -> tuple[M, int]:
    """The instance of ``model`` whose concrete fields' values start at ``start`` of ``row``, and the position
    after them."""
    fields = model._meta.concrete_fields
    end = start + len(fields)
    values = list(row[start:end])
    for position, column, converters in _converters(model):
        for converter in converters:
            values[position] = converter(values[position], column, connection)
    return model.from_db(connection.alias, [field.attname for field in fields], values), end


@functools.cache
def _user_sql() -> str:
    user, quote = get_user_model(), connection.ops.quote_name
    membership, enterprise = Membership._meta, Enterprise._meta
    return (
        f"SELECT {_columns(user, 'u')}, {_columns(Membership, 'm')}, {_columns(Enterprise, 'e')} "
        f"FROM {quote(user._meta.db_table)} u "
        f"LEFT OUTER JOIN {quote(membership.db_table)} m ON m.{quote(membership.get_field('user').column)} = u."
        f"{quote(user._meta.pk.column)} "
        f"LEFT OUTER JOIN {quote(enterprise.db_table)} e ON e.{quote(enterprise.pk.column)} = m."
        f"{quote(membership.get_field('enterprise').column)} "
        f"WHERE u.{quote(user._meta.pk.column)} = %s"
    )


def user_with_membership(user_id: Any) -> AbstractBaseUser | None:
    """The user of ``user_id`` with ``user.membership`` (and its ``enterprise``) already read, None when the
    user does not exist. A user without a membership has that cached too: ``user.membership`` raises
    RelatedObjectDoesNotExist without a query, as after select_related."""
    user_model = get_user_model()
    try:
        key = user_model._meta.pk.to_python(user_id)
    except (ValidationError, TypeError, ValueError):  # an id of the wrong type: no such user
        return None
    with connection.cursor() as cursor:
        cursor.execute(_user_sql(), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    user, position = _instance(user_model, row, 0)
    related = user_model.membership.related
    if row[position] is None:  # no membership: the LEFT JOINs' columns are NULL
        related.set_cached_value(user, None)
        return user
    membership, position = _instance(Membership, row, position)
    enterprise, _end = _instance(Enterprise, row, position)
    Membership.enterprise.field.set_cached_value(membership, enterprise)
    related.set_cached_value(user, membership)
    Membership.user.field.set_cached_value(membership, user)
    return user


@functools.cache
def _assessment_sql() -> str:
    quote = connection.ops.quote_name
    assessment, questionnaire = Assessment._meta, Questionnaire._meta
    return (
        f"SELECT {_columns(Assessment, 'a')}, {_columns(Questionnaire, 'q')} "
        f"FROM {quote(assessment.db_table)} a "
        f"INNER JOIN {quote(questionnaire.db_table)} q ON q.{quote(questionnaire.pk.column)} = a."
        f"{quote(assessment.get_field('questionnaire').column)} "
        f"WHERE a.{quote(assessment.pk.column)} = %s AND a.{quote(assessment.get_field('enterprise').column)} = %s"
    )


def assessment_of_enterprise(*, assessment_id: int, enterprise: Enterprise) -> Assessment:
    """The round ``assessment_id`` of ``enterprise`` with its questionnaire (and the firm given) cached on it;
    Assessment.DoesNotExist when the firm has no such round."""
    if not -(2**63) <= assessment_id < 2**63:  # beyond a bigint: no round (SQLite's driver would overflow)
        raise Assessment.DoesNotExist
    with connection.cursor() as cursor:
        cursor.execute(_assessment_sql(), [assessment_id, enterprise.pk])
        row = cursor.fetchone()
    if row is None:
        raise Assessment.DoesNotExist
    assessment, position = _instance(Assessment, row, 0)
    questionnaire, _end = _instance(Questionnaire, row, position)
    Assessment.questionnaire.field.set_cached_value(assessment, questionnaire)
    Assessment.enterprise.field.set_cached_value(assessment, enterprise)
    return assessment
