"""Queries compiled once per shape (surveys/selectors/compiled.py): the ORM's SQL, run with new values."""

import pytest
from django.db import connection

from surveys.models import Enterprise, SummaryFirm
from surveys.selectors.compiled import compile_once

from .model_factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def by_district_and_size(slots):
    return (
        Enterprise.objects.filter(district=slots.text("district"), size_class=slots.text("size"), id__gt=0)
        .values_list("name", flat=True)
        .order_by("name")
    )


def run(compiled, values):
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params_for(values))
        return [row[0] for row in cursor.fetchall()]


def test_a_query_compiled_once_answers_each_new_value_as_the_orm_does():
    EnterpriseFactory(name="甲", district="370102", size_class="small")
    EnterpriseFactory(name="乙", district="370102", size_class="medium")
    EnterpriseFactory(name="丙", district="370112", size_class="small")
    compiled = compile_once(by_district_and_size)
    assert 0 in compiled.params  # the constant stays where it was
    for district in ("370102", "370112", "370199"):
        for size in ("small", "medium"):
            orm = list(
                Enterprise.objects.filter(district=district, size_class=size, id__gt=0)
                .values_list("name", flat=True)
                .order_by("name")
            )
            assert run(compiled, {"district": district, "size": size}) == orm


def test_a_placeholder_the_query_does_not_pass_on_is_refused():
    def dropped(slots):
        slots.text("unused")
        return Enterprise.objects.filter(district=slots.text("district"))

    with pytest.raises(ValueError, match="unused"):
        compile_once(dropped)


def test_an_integer_placeholder_compiles_on_a_32_bit_column():
    # PostgreSQL's integer column: Django answers a lookup beyond its range with no SQL at all.
    compiled = compile_once(
        lambda slots: (
            SummaryFirm.objects.filter(firms__lte=slots.integer("most"), district=slots.text("district"))
            .values_list("industry", flat=True)
            .order_by("industry")
        )
    )
    SummaryFirm.objects.create(
        district="370103", industry="C13", size_class="small", leading_chain="", sector="", firms=3
    )
    SummaryFirm.objects.create(
        district="370103", industry="C27", size_class="small", leading_chain="", sector="", firms=9
    )
    assert run(compiled, {"most": 3, "district": "370103"}) == ["C13"]
    assert run(compiled, {"most": 9, "district": "370103"}) == ["C13", "C27"]
