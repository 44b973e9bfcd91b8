"""The summary tables are maintained in the transaction of every write that changes what they count, and a
rebuild gives exactly what the writes left (surveys/services/summaries.py).

Whether the readers give the pages' figures exactly is tests/manage/test_summary_readers.py.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from surveys import services
from surveys.analytics import summaries as readers
from surveys.models import Assessment, Enterprise, RegisterEntry, SummaryCell, SummaryCount, SummaryFirm
from surveys.scopes import AdminScope
from surveys.selectors.administrators import Filters
from surveys.services import summaries as maintenance
from surveys.services.register import register_change, register_import
from surveys.uscc import with_check_character
from tests import summary_data
from tests.model_factories import UserFactory, register_uscc
from tests.reports.conftest import realistic_answers, submit_round

CITY = AdminScope.city_wide()
REGISTER_HEADER = ["统一社会信用代码", "企业名称", "区县代码", "行业代码", "企业规模", "主导产业链", "重点产业领域"]


def assert_exact() -> None:
    check = services.summaries_differences()
    assert check.ok, check.examples


def snapshot() -> set[tuple]:
    """Every summary row that counts something, keyed by the cell's key (ids differ between builds)."""
    key = [f"cell__{c}" for c in ("grain", "label", "questionnaire_id", "level", "year")]
    key += [f"cell__{c}" for c in ("district", "industry", "size_class", "leading_chain", "sector")]
    cells = {
        ("cell", *row)
        for row in SummaryCell.objects.exclude(rounds=0, indexed=0, index_total=0).values_list(
            *[k.removeprefix("cell__") for k in key], "rounds", "indexed", "index_total"
        )
    }
    counts = {
        ("count", *row)
        for row in SummaryCount.objects.exclude(rounds=0, total=0).values_list(
            *key, "kind", "code", "option", "value", "rounds", "total"
        )
    }
    firms = {("firm", *row) for row in SummaryFirm.objects.exclude(firms=0).values_list()}
    return cells | counts | {row[:1] + row[2:] for row in firms}  # the firm rows without their ids


def new_firm(n: int, **fields):
    user = UserFactory()
    data = {
        "name": f"济南汇总测试机械有限公司{n}",
        "uscc": register_uscc(900 + n),
        "district": "370112",
        "industry": "C34",
        "size_class": "medium",
        "leading_chain": "EQUIP",
        "contact_name": "张三",
        "contact_phone": "0531-88888888",
        **fields,
    }
    return user, services.enterprise_register(user=user, enterprise_data=data)


def submit(questionnaire, user, enterprise, *, label: str, seed: int = 0) -> Assessment:
    return submit_round(
        enterprise=enterprise, user=user, answers=realistic_answers(questionnaire, seed=seed), label=label
    )


def latest_cell(enterprise: Enterprise) -> SummaryCell:
    return SummaryCell.objects.get(
        grain="fine", label="", district=enterprise.district, industry=enterprise.industry, rounds__gt=0
    )


@pytest.mark.django_db
def test_a_submission_counts_the_round_under_its_label_and_as_the_firms_latest(questionnaire):
    user, firm = new_firm(1)
    assert readers.registered(CITY, Filters()) == 1 and readers.selected(CITY, Filters()).rounds == 0
    first = submit(questionnaire, user, firm, label="2026 T0", seed=1)
    assert readers.selected(CITY, Filters()).rounds == 1
    assert latest_cell(firm).index_total == int(first.index * 100)
    assert_exact()

    second = submit(questionnaire, user, firm, label="2026 T1", seed=2)
    # The firm's latest is its second round alone; each label keeps its round.
    assert readers.selected(CITY, Filters()).rounds == 1
    assert latest_cell(firm).index_total == int(second.index * 100)
    assert readers.selected(CITY, Filters(round_label="2026 T0")).rounds == 1
    assert readers.selected(CITY, Filters(round_label="2026 T1")).rounds == 1
    assert readers.round_counts(CITY, Filters(), by="label", every_label=True).keys() == {"2026 T0", "2026 T1"}
    assert_exact()


@pytest.mark.django_db
def test_a_submission_writes_the_summaries_in_two_statements(questionnaire):
    user, firm = new_firm(2)
    submit(questionnaire, user, firm, label="2026 T0", seed=1)
    draft = services.assessment_start(enterprise=firm, user=user, label="2026 T1")
    changes = [
        services.AnswerChange(item_code=code, value=value, note="", base_revision=0)
        for code, value in realistic_answers(questionnaire, seed=3).items()
    ]
    services.answers_save(assessment=draft, user=user, changes=changes)
    with CaptureQueriesContext(connection) as queries:
        services.assessment_submit(assessment=draft, user=user, pledge=True)
    touching = [q["sql"] for q in queries.captured_queries if "summary" in q["sql"]]
    assert len(touching) == 2 and all(sql.startswith("WITH") for sql in touching)
    assert_exact()


@pytest.mark.django_db
def test_a_rebuild_gives_exactly_what_the_services_left(questionnaire):
    firms = [new_firm(n, district=district) for n, district in enumerate(("370112", "370112", "370102", "370104"))]
    RegisterEntry.objects.create(
        uscc=firms[0][1].uscc, name="甲", district="370112", industry="C34", size_class="medium", sectors=",steel,"
    )
    services.summaries_rebuild()  # the register row, written directly
    for n, (user, firm) in enumerate(firms):
        submit(questionnaire, user, firm, label="2026 T0", seed=n)
        if n % 2 == 0:
            submit(questionnaire, user, firm, label="2026 T1", seed=n + 5)
    user, firm = firms[1]
    services.enterprise_update(user=user, enterprise=firm, data={"district": "370105", "size_class": "small"})
    incremental = snapshot()
    services.summaries_rebuild()
    assert snapshot() == incremental
    assert_exact()


@pytest.mark.django_db
def test_a_change_of_district_industry_size_or_chain_moves_every_round(questionnaire):
    user, firm = new_firm(3)
    submit(questionnaire, user, firm, label="2026 T0", seed=1)
    submit(questionnaire, user, firm, label="2026 T1", seed=2)
    services.enterprise_update(user=user, enterprise=firm, data={"industry": "C35", "leading_chain": "IT"})
    assert readers.selected(CITY, Filters(industry="C34")).rounds == 0
    assert readers.selected(CITY, Filters(industry="C35", leading_chain="IT")).rounds == 1
    assert readers.registered(CITY, Filters(industry="C35")) == 1
    assert_exact()
    services.enterprise_update(user=user, enterprise=firm, data={"contact_name": "李四"})  # nothing to move
    assert_exact()


@pytest.mark.django_db
def test_a_corrected_uscc_counts_the_firm_under_the_new_codes_sectors(questionnaire):
    user, firm = new_firm(4)
    submit(questionnaire, user, firm, label="2026 T0", seed=1)
    new_code = register_uscc(4242)
    with register_change(usccs=[new_code]):  # a row written past the import: the summaries follow it
        RegisterEntry.objects.create(uscc=new_code, name="乙", district="370112", industry="C34", size_class="small",
                                     sectors=",biomed,steel,")  # fmt: skip
    services.enterprise_uscc_correct(user=user, enterprise=firm, uscc_raw=new_code)
    for sector in ("biomed", "steel"):
        assert readers.selected(CITY, Filters(sector=sector)).rounds == 1
        assert readers.registered(CITY, Filters(sector=sector)) == 1
    assert_exact()


@pytest.mark.django_db
@pytest.mark.parametrize("one_by_one", [True, False], ids=["moved", "rebuilt"])
def test_a_register_import_moves_the_firms_whose_sectors_change(questionnaire, monkeypatch, one_by_one):
    if not one_by_one:
        monkeypatch.setattr(maintenance, "MOVE_LIMIT", 0)
    user, firm = new_firm(5)
    submit(questionnaire, user, firm, label="2026 T0", seed=1)
    row = [firm.uscc, "丙", "370112", "C34", "medium", "EQUIP", "steel"]
    register_import(rows=[REGISTER_HEADER, row])
    assert readers.selected(CITY, Filters(sector="steel")).rounds == 1
    assert_exact()
    register_import(rows=[REGISTER_HEADER, [*row[:-1], "nev；ic"]])
    assert readers.selected(CITY, Filters(sector="steel")).rounds == 0
    assert readers.selected(CITY, Filters(sector="ic")).rounds == 1
    assert_exact()


@pytest.mark.django_db
def test_a_firm_counts_in_each_pair_of_its_sectors_and_follows_a_change_of_its_tags(questionnaire):
    """Three tags: the firm counts in each sector and each of the three pairs (by sector under a sector filter it
    is in every one of its sectors' rows), the pairs' cells keep only the rounds and the dimensions' counts, no
    pair shows without a sector filter, and a re-import that drops a tag moves it out of that tag's pairs."""
    user, firm = new_firm(6)
    submit(questionnaire, user, firm, label="2026 T0", seed=2)
    row = [firm.uscc, "丁", "370112", "C34", "medium", "EQUIP", "steel；nev；ic"]
    register_import(rows=[REGISTER_HEADER, row])
    latest = {"grain": "sector", "label": ""}
    assert set(SummaryCell.objects.filter(**latest, rounds=1).values_list("sector", flat=True)) == {
        "steel", "ic", "nev", "steel|ic", "steel|nev", "ic|nev"
    }  # fmt: skip
    pair_kinds = SummaryCount.objects.filter(cell__sector__contains="|", rounds__gt=0).values_list("kind", flat=True)
    assert set(pair_kinds) == {"dim"}
    assert {"index", "score", "dim", "item"} <= set(
        SummaryCount.objects.filter(cell__sector="steel").values_list("kind", flat=True)
    )
    for chosen in ("steel", "nev", "ic"):
        by_sector = readers.dimension_counts(CITY, Filters(sector=chosen), by="sector")
        assert {group for group, _code in by_sector} == {"steel", "nev", "ic"}, chosen
    assert {group for group, _code in readers.dimension_counts(CITY, Filters(), by="sector")} == {"steel", "nev", "ic"}
    assert_exact()
    register_import(rows=[REGISTER_HEADER, [*row[:-1], "steel；ic"]])
    ic = readers.dimension_counts(CITY, Filters(sector="ic"), by="sector")
    assert {group for (group, _code), counts in ic.items() if counts.results} == {"steel", "ic"}
    assert readers.selected(CITY, Filters(sector="nev")).rounds == 0
    assert_exact()


@pytest.mark.django_db
def test_coverage_stays_exact_after_a_uscc_correction_and_a_second_round(questionnaire, settings):
    """The coverage cells follow a firm whose corrected USCC is another register row's, one whose new code is in
    no register row, and a second round with a label; the check finds nothing after each."""
    from tests.test_coverage import assert_summaries_equal_rows

    settings.JINAN_DASHBOARD_CACHE_SECONDS = 0
    (user, firm), (other_user, other) = new_firm(8), new_firm(9, district="370102")
    free_code = register_uscc(4343)
    register_import(
        rows=[
            REGISTER_HEADER,
            [firm.uscc, "甲", "370104", "C31", "small", "IT", "steel"],
            [other.uscc, "乙", "370112", "C34", "medium", "", ""],
            [free_code, "丙", "370102", "C34", "large", "", "ic;biomed"],
        ]
    )
    submit(questionnaire, user, firm, label="2026 T0", seed=1)
    submit(questionnaire, other_user, other, label="2026 T0", seed=2)

    def check() -> None:
        assert_summaries_equal_rows(settings)
        assert_exact()

    check()
    services.enterprise_uscc_correct(user=user, enterprise=firm, uscc_raw=free_code)
    check()
    services.enterprise_uscc_correct(user=other_user, enterprise=other, uscc_raw=register_uscc(4444))
    check()
    submit(questionnaire, user, Enterprise.objects.get(pk=firm.pk), label="2026 T1", seed=3)
    check()


@pytest.mark.django_db
def test_deletions_through_the_services_keep_the_summaries_exact(questionnaire):
    (user, firm), (other_user, other) = new_firm(6), new_firm(7)
    first = submit(questionnaire, user, firm, label="2026 T0", seed=1)
    submit(questionnaire, other_user, other, label="2026 T0", seed=2)
    services.summaries_round_delete(assessment=first)
    first.delete()
    assert_exact()
    services.summaries_enterprise_remove(enterprise_ids=[other.pk])
    other.delete()
    assert_exact()
    assert readers.registered(CITY, Filters()) == 1 and readers.selected(CITY, Filters()).rounds == 0


@pytest.mark.django_db
def test_the_change_since_the_previous_round_stays_exact_as_rounds_are_rescored_deleted_and_inserted(questionnaire):
    user, firm = new_firm(8)
    first = submit(questionnaire, user, firm, label="2026 T0", seed=1)
    middle = submit(questionnaire, user, firm, label="2026 T1", seed=2)
    last = submit(questionnaire, user, firm, label="2026 T2", seed=3)
    assert_exact()

    def previous() -> dict:
        return readers.previous_round_counts(CITY, Filters(), levels=["L3", "L4", "L5"])

    def hundredths(round_: Assessment) -> int:
        return int(Assessment.objects.get(pk=round_.pk).index * 100)

    # The latest round's previous round is the middle one: its label, and its index then.
    assert set(previous()) == {"2026 T1"}
    assert previous()["2026 T1"].then_total == hundredths(middle)
    assert previous()["2026 T1"].now_total == hundredths(last)

    # A correction of the middle round's result (as the re-scoring job makes it) reaches the round after it.
    services.summaries_round_delete(assessment=middle)
    Assessment.objects.filter(pk=middle.pk).update(index=12.34, level="L1")
    services.summaries_round_insert(assessment=Assessment.objects.get(pk=middle.pk))
    assert_exact()
    assert previous()["2026 T1"].then_total == 1234 and previous()["2026 T1"].then_above == 0

    # Deleted, the round before it becomes the latest round's previous one.
    services.summaries_round_delete(assessment=middle)
    Assessment.objects.filter(pk=middle.pk).delete()
    assert_exact()
    assert set(previous()) == {"2026 T0"} and previous()["2026 T0"].then_total == hundredths(first)

    # A round written between the two (submitted in between) becomes the previous one again.
    between = Assessment.objects.create(
        enterprise=firm,
        questionnaire=first.questionnaire,
        label="2026 T1b",
        status=Assessment.STATUS_SUBMITTED,
        submitted_at=first.submitted_at + (last.submitted_at - first.submitted_at) / 2,
        index=55.5,
        level="L3",
    )
    services.summaries_round_insert(assessment=between)
    assert_exact()
    assert set(previous()) == {"2026 T1b"}
    assert previous()["2026 T1b"].then_total == 5550 and previous()["2026 T1b"].then_above == 1


@pytest.mark.django_db
def test_the_check_finds_a_tampered_cell_and_the_rebuild_repairs_it(questionnaire, versions_for_city):
    summary_data.random_city(versions_for_city, seed=11, firms=40)
    call_command("rebuild_summaries", stdout=_null())
    call_command("rebuild_summaries", "--check", stdout=_null())  # exit code 0
    cell = SummaryCell.objects.filter(grain="district", rounds__gt=0).first()
    SummaryCell.objects.filter(pk=cell.pk).update(rounds=cell.rounds + 1)
    count = SummaryCount.objects.filter(kind="item", rounds__gt=0).first()
    SummaryCount.objects.filter(pk=count.pk).update(rounds=count.rounds + 2)
    out = _null()
    with pytest.raises(CommandError, match="2 summary rows differ"):
        call_command("rebuild_summaries", "--check", stdout=out)
    assert "cells" in out.getvalue() and "counts" in out.getvalue()
    check = services.summaries_differences()
    assert {(d.table, d.stored[0] - d.expected[0]) for d in check.examples} == {("cells", 1), ("counts", 2)}
    call_command("rebuild_summaries", stdout=_null())
    assert_exact()


@pytest.mark.django_db
def test_seed_demo_leaves_the_summaries_exact(questionnaire):
    call_command("seed_demo", "--firms", "25", stdout=_null(), stderr=_null())
    assert SummaryCell.objects.exists() and readers.registered(CITY, Filters()) == 25
    assert_exact()


@pytest.fixture
def versions_for_city(questionnaire):
    from tests.model_factories import questionnaire as factory_questionnaire

    return [questionnaire, factory_questionnaire("summary-3")]


def _null():
    import io

    return io.StringIO()


# --- PostgreSQL: concurrent submissions of different firms -------------------------------------------------

FIRMS_AT_ONCE = 8


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency needs PostgreSQL (SQLite serialises writers)"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_different_firms_stay_exact():
    """Eight firms of one district and industry submit at the same moment, three times over (first rounds, then
    second rounds that move each firm's latest): every cell they share is updated by all of them."""
    from tests.conftest import load_seed

    questionnaire = load_seed()
    firms = [new_firm(n, uscc=with_check_character(f"913701{7000 + n:011d}"[:17])) for n in range(FIRMS_AT_ONCE)]
    with ThreadPoolExecutor(FIRMS_AT_ONCE) as pool:
        try:
            for n, label in enumerate(("2026 T0", "2026 T1", "2026 T2")):
                drafts = []
                for k, (user, firm) in enumerate(firms):
                    draft = services.assessment_start(enterprise=firm, user=user, label=label)
                    answers = realistic_answers(questionnaire, seed=n * 10 + k)
                    changes = [services.AnswerChange(code, value, "", 0) for code, value in answers.items()]
                    assert services.answers_save(assessment=draft, user=user, changes=changes).ok
                    drafts.append((user, draft))
                barrier = threading.Barrier(FIRMS_AT_ONCE)

                def submit_now(user, draft, barrier=barrier):
                    barrier.wait(timeout=30)
                    services.assessment_submit(assessment=draft, user=user, pledge=True)

                for future in [pool.submit(submit_now, user, draft) for user, draft in drafts]:
                    future.result()
        finally:
            # Every worker closes its own connection (the barrier keeps one worker from taking two turns).
            closing = threading.Barrier(FIRMS_AT_ONCE)

            def close():
                closing.wait(timeout=30)
                connections.close_all()

            for future in [pool.submit(close) for _ in range(FIRMS_AT_ONCE)]:
                future.result()
    assert readers.selected(CITY, Filters()).rounds == FIRMS_AT_ONCE
    assert readers.round_counts(CITY, Filters(), by="label", every_label=True)["2026 T2"].rounds == FIRMS_AT_ONCE
    assert_exact()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite serialises writers)")
@pytest.mark.django_db(transaction=True)
def test_moving_a_round_locks_the_round_submitted_after_it():
    """A re-scored round changes the counts of the firm's next round: that round stays locked until the change
    commits, so a submission of the firm (which takes its latest round out) waits instead of counting from the
    figures being replaced."""
    from django.db import DatabaseError, transaction

    from tests.conftest import load_seed

    questionnaire = load_seed()
    user, firm = new_firm(9)
    first = submit(questionnaire, user, firm, label="2026 T0", seed=1)
    second = submit(questionnaire, user, firm, label="2026 T1", seed=2)

    def try_lock(round_id: int) -> bool:
        try:
            with transaction.atomic():
                list(Assessment.objects.select_for_update(nowait=True).filter(pk=round_id).values_list("id"))
            return True
        except DatabaseError:
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        with transaction.atomic():
            services.summaries_round_delete(assessment=first)
            assert pool.submit(try_lock, second.pk).result() is False
        assert pool.submit(try_lock, second.pk).result() is True
        services.summaries_round_insert(assessment=first)
    assert_exact()
