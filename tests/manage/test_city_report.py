"""The city-level PDF: the paper's structure, the scope, suppression, and the note on every page."""

import io
import re
import subprocess
from collections import Counter

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import override
from pypdf import PdfReader

from surveys import analytics, demo, scopes, services
from surveys.models import (
    Answer,
    Assessment,
    Countermeasure,
    Dimension,
    DimensionResult,
    Enterprise,
    Item,
    RegisterEntry,
    sectors_encode,
)
from surveys.reports.city import key_findings, render_city_pdf
from surveys.reports.formatting import format_score
from tests.manage.conftest import DEMO_FIRMS, submitted_firm
from tests.model_factories import EnterpriseFactory, MembershipFactory, RegisterEntryFactory, register_uscc
from tests.reports.conftest import submit_round

pytestmark = pytest.mark.django_db

OTHER_DISTRICTS = ["历下区", "市中区", "槐荫区", "天桥区", "长清区", "济阳区", "莱芜区", "钢城区", "平阴县", "商河县"]


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_the_report_follows_the_five_problems_and_four_countermeasures(demo_firms, questionnaire):
    _name, mimetype, data = render_city_pdf(
        analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="zh-hans")
    )
    assert mimetype == "application/pdf" and data.startswith(b"%PDF")
    pages = pages_text(data)
    text = "".join(pages)
    for dimension in Dimension.objects.filter(questionnaire=questionnaire):
        assert dimension.problem_zh in text
    for countermeasure in Countermeasure.objects.filter(questionnaire=questionnaire):
        assert countermeasure.heading_zh in text
    for page in pages:
        assert "根据企业自评估汇总，不是官方评定" in page
    assert "不是工信部" in text


def test_the_numbers_in_the_report_are_the_dashboards(demo_firms):
    scope = scopes.AdminScope.city_wide()
    report = analytics.city_report(scope=scope, filters=analytics.Filters(), language="zh-hans")
    board = analytics.dashboard(scope, analytics.Filters())
    assert report.data.overview == board.overview
    assert report.data.dimension_stats == board.dimension_stats
    text = "".join(pages_text(render_city_pdf(report)[2]))
    for stat in board.dimension_stats:
        assert f"{stat.weak_share:.1f}%" in text
    # The share of weak firms by district agrees with the breakdown's usable scores.
    area = report.data.problem_areas[0]
    licheng = next(r for r in area.by_district if r.label == "历城区")
    from surveys.models import DimensionResult

    scores = [
        float(s)
        for s in DimensionResult.objects.filter(
            assessment__is_latest=True,
            assessment__enterprise__district="370112",
            dimension__code="D1",
            insufficient_data=False,
        ).values_list("score", flat=True)
    ]
    weak = sum(s < 40 for s in scores)
    assert licheng.firms == len(scores)
    assert licheng.weak_share == (pytest.approx(100 * weak / len(scores)) if weak >= 10 else None)


def test_a_district_administrators_report_names_only_their_districts(client, district_admin, demo_firms):
    client.force_login(district_admin)
    response = client.get(reverse("manage:city_report"))
    assert response.status_code == 200
    text = "".join(pages_text(response.content))
    assert "历城区" in text and "章丘区" in text
    for name in OTHER_DISTRICTS:
        assert name not in text, name


@pytest.mark.parametrize(
    ("language", "ignored", "kept"),
    [
        ("zh-hans", "已忽略无效的筛选条件：区县、重点产业领域", "行业："),
        ("en", "Invalid filters ignored: District/county, Key sectors", "Industry: "),
    ],
    ids=["zh-hans", "en"],
)
def test_a_report_asked_for_with_invalid_filters_says_which_it_ignored(
    client, district_admin, demo_firms, language, ignored, kept
):
    """A hand-edited link (a sector that does not exist, a district outside the administrator's scope) gives
    the report of what is valid, and its scope line says what was left out, as the web form does."""
    client.force_login(district_admin)
    client.cookies["django_language"] = language
    response = client.get(reverse("manage:city_report") + "?sector=bogus&district=370102&industry=C34")
    assert response.status_code == 200
    first_page = squeeze(pages_text(response.content)[0])
    assert squeeze(ignored) in first_page and squeeze(kept) in first_page
    assert "历下区" not in "".join(pages_text(response.content))
    valid = client.get(reverse("manage:city_report") + "?industry=C34")
    assert squeeze(ignored.split("：")[0].split(":")[0]) not in squeeze("".join(pages_text(valid.content)))


def test_small_groups_are_hidden_in_the_report(small_city):
    report = analytics.city_report(
        scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(district="370102"), language="zh-hans"
    )
    assert report.data.overview.submitted is None
    assert all(area.stats.mean is None for area in report.data.problem_areas)
    text = "".join(pages_text(render_city_pdf(report)[2]))
    assert "<10" in text


def test_the_report_embeds_its_cjk_font(demo_firms, tmp_path):
    _name, _mime, data = render_city_pdf(
        analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="zh-hans")
    )
    path = tmp_path / "city.pdf"
    path.write_bytes(data)
    try:
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    # Only the embedded CJK font: tables name it too, so no Helvetica slips in (reports/base.py).
    assert rows and all(" yes " in line and "Helvetica" not in line for line in rows), fonts


def test_english_report(demo_firms):
    _name, _mime, data = render_city_pdf(
        analytics.city_report(scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="en")
    )
    assert data.startswith(b"%PDF")
    assert PdfReader(io.BytesIO(data)).metadata is not None


# --- the briefing (issue 14 item 4): page 1's findings, prevalence by grouping, city-level problems ----------

LEVELS_AT_OR_ABOVE = ("L3", "L4", "L5")
# Register sector tags by leading chain; every other firm of a chain gets the first two (a firm in two sectors).
SECTOR_PLAN = {
    "STEEL": ["steel", "materials"],
    "EQUIP": ["cnc_robot", "power_equip"],
    "BIO": ["biomed", "health"],
    "IT": ["computing", "ic"],
    "OTHER": ["nev", "materials"],
}
REGISTER_ONLY = 40


def seed_briefing_city(questionnaire, questionnaire_2026_2, *, firms: int = DEMO_FIRMS) -> None:
    """Demo firms whose latest round is on 2026.2 (barriers question, city-level problems) and a quarter with an
    earlier round on 2026.1; nine in ten in the business register with one or two sector tags, and
    REGISTER_ONLY register firms that have not signed up."""
    demo.seed_demo(firms=firms, questionnaire=questionnaire_2026_2, previous=questionnaire, seed=11)
    rows = []
    fields = ("uscc", "name", "district", "industry", "size_class", "leading_chain")
    for n, firm in enumerate(Enterprise.objects.order_by("id").values(*fields)):
        if n % 10 == 9:
            continue  # assessed, not registered
        tags = SECTOR_PLAN[firm["leading_chain"]][: 1 + n % 2]
        rows.append(RegisterEntry(sectors=sectors_encode(tags), **firm))
    rows += [
        RegisterEntry(uscc=register_uscc(n, "370112"), name=f"登记企业{n}", district=("370112", "370102")[n % 2],
                      industry="C34", size_class="small", leading_chain="EQUIP", sectors=",steel,")
        for n in range(REGISTER_ONLY)
    ]  # fmt: skip
    taken = set(RegisterEntry.objects.values_list("uscc", flat=True))  # should the demo write a register too
    RegisterEntry.objects.bulk_create([row for row in rows if row.uscc not in taken])
    # Rows written in bulk bypass the services that keep the summaries (their sector cells): rebuild them.
    services.summaries_rebuild()


@pytest.fixture
def briefing_city(questionnaire, questionnaire_2026_2):
    seed_briefing_city(questionnaire, questionnaire_2026_2)


def latest_rounds():
    return Assessment.objects.filter(status=Assessment.STATUS_SUBMITTED, is_latest=True)


def says(text: str, count: int) -> bool:
    """``text`` states the count (as a whole number, not inside another number, a share or a level code)."""
    return re.search(rf"(?<![\dL.,]){count:,}(?![\d.,%])", text) is not None


def pct(value: float) -> str:
    return f"{format_score(value)}%"


def findings_of(language: str, filters=None) -> tuple[analytics.CityReport, dict[str, str]]:
    """The report and its findings as "topic → text and items" (in ``language``)."""
    report = analytics.city_report(
        scope=scopes.AdminScope.city_wide(), filters=filters or analytics.Filters(), language=language
    )
    with override(report.language):
        findings = key_findings(report)
    return report, {f.topic: " ".join([f.text, *f.items]) for f in findings}


TOPICS = {
    "zh-hans": ("覆盖面", "等级", "最薄弱的维度", "最常见的薄弱题目", "企业反映的困难", "与上一轮相比"),
    "en": (
        "Coverage",
        "Level",
        "Weakest dimension",
        "Most frequent weaknesses",
        "Barriers firms name",
        "Change since the previous round",
    ),
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_each_finding_states_the_figure_computed_directly(briefing_city, language):
    report, findings = findings_of(language)
    coverage, level, weakest, weaknesses, barriers, change = (findings[t] for t in TOPICS[language])
    check_coverage(coverage)
    check_level(level)
    check_weakest(weakest, language)
    check_weaknesses(weaknesses)
    check_barriers(barriers, report, language)
    check_change(change, report)
    # Page 1 of the PDF says each of them.
    page = squeeze(PdfReader(io.BytesIO(render_city_pdf(report)[2])).pages[0].extract_text())
    for text in (coverage, level, weakest, barriers, change):
        assert squeeze(text)[:40] in page


def check_coverage(text: str) -> None:
    """Register rows whose USCC belongs to a firm with a latest submitted round, of all register rows."""
    assessed_usccs = set(latest_rounds().values_list("enterprise__uscc", flat=True))
    registered = RegisterEntry.objects.count()
    assessed = RegisterEntry.objects.filter(uscc__in=assessed_usccs).count()
    assert says(text, registered) and says(text, assessed) and says(text, registered - assessed)
    assert pct(100 * assessed / registered) in text


def check_level(text: str) -> None:
    total = latest_rounds().count()
    above = latest_rounds().filter(level__in=LEVELS_AT_OR_ABOVE).count()
    assert says(text, total) and says(text, above) and pct(100 * above / total) in text


def check_weakest(text: str, language: str) -> None:
    """The lowest mean of the usable scores, and the problem the paper names for that dimension."""
    means = {}
    for code in ("D1", "D2", "D3", "D4", "D5"):
        scores = DimensionResult.objects.filter(
            assessment__in=latest_rounds(), dimension__code=code, insufficient_data=False, score__isnull=False
        ).values_list("score", flat=True)
        means[code] = sum(float(s) for s in scores) / len(scores)
    code = min(means, key=means.get)
    lowest = Dimension.objects.get(questionnaire=report_questionnaire(), code=code)
    with override(language):
        problem = lowest.problem
    assert f"{code} " in text and format_score(means[code]) in text and problem in text


def check_weaknesses(text: str) -> None:
    """Answers at score ≤ 1 or 不清楚, as a share of the rounds that contain the item; one per item code."""
    rounds_per_version = Counter(latest_rounds().values_list("questionnaire_id", flat=True))
    weak = Counter(
        Answer.objects.filter(assessment__in=latest_rounds())
        .filter(Q(score__lte=1) | Q(special="unknown"))
        .values_list("item__code", "item__questionnaire_id")
    )
    top: dict[str, float] = {}
    for (item_code, version), n in sorted(weak.items(), key=lambda kv: -kv[1]):
        top.setdefault(item_code, 100 * n / rounds_per_version[version])
    for item_code, share in list(top.items())[:5]:
        assert f"{item_code} " in text and pct(share) in text, item_code


def check_barriers(text: str, report, language: str) -> None:
    """The options of the context question C1 most chosen in the latest rounds."""
    answered, counts = 0, Counter()
    for context in latest_rounds().values_list("context", flat=True):
        chosen = set(context.get("C1", {}).get("choices", []))
        if chosen:
            answered += 1
            counts.update(chosen)
    assert says(text, answered)
    labels = {o_label(o, language): o["code"] for o in c1_options()}
    top = report.data.context[0].rows[:3]
    assert [counts[labels[row.label]] for row in top] == sorted(counts.values(), reverse=True)[:3]
    for row in top:
        assert row.label in text and pct(100 * counts[labels[row.label]] / answered) in text


def check_change(text: str, report) -> None:
    """Each latest round against the same firm's round submitted before it."""
    now, then = [], []
    for assessment in latest_rounds():
        previous = (
            Assessment.objects.filter(
                enterprise_id=assessment.enterprise_id,
                status=Assessment.STATUS_SUBMITTED,
                submitted_at__lt=assessment.submitted_at,
            )
            .order_by("-submitted_at")
            .first()
        )
        if previous is not None:
            now.append(assessment)
            then.append(previous)
    assert len(now) >= 10 and says(text, len(now))
    assert format_score(sum(float(a.index) for a in then) / len(then)) in text
    assert format_score(sum(float(a.index) for a in now) / len(now)) in text
    for rounds, share in ((now, report.data.change.current_share), (then, report.data.change.previous_share)):
        n = sum(a.level in LEVELS_AT_OR_ABOVE for a in rounds)
        if 0 < n < 10 or 0 < len(rounds) - n < 10:
            assert share is None
        else:
            assert share == pytest.approx(100 * n / len(rounds)) and pct(share) in text


def report_questionnaire():
    return analytics.reference_questionnaire()


def c1_options() -> list[dict]:
    from surveys.models import ContextQuestion

    return ContextQuestion.objects.get(questionnaire=report_questionnaire(), code="C1").options


def o_label(option: dict, language: str) -> str:
    return option["label_en"] if language == "en" else option["label_zh"]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def few_firms(questionnaire):
    """12 firms: 3 answer every item at E (L5), 9 at B (L2); 5 of them have an earlier round; 4 of them and 20
    other firms in the register. So the firms at L3 or above (3), the assessed register firms (4) and the firms
    with an earlier round (5) are all below the minimum group size."""
    codes = list(Item.objects.filter(questionnaire=questionnaire).values_list("code", flat=True))
    for n in range(12):
        enterprise = EnterpriseFactory(district="370112")
        user = MembershipFactory(enterprise=enterprise).user
        if n < 5:
            submit_round(enterprise=enterprise, user=user, answers=dict.fromkeys(codes, 1), label="2025")
        submit_round(enterprise=enterprise, user=user, answers=dict.fromkeys(codes, 4 if n < 3 else 1), label="2026")
        if n < 4:
            RegisterEntryFactory(uscc=enterprise.uscc)
    RegisterEntryFactory.create_batch(20)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_suppressed_figure_is_never_printed_in_a_finding(few_firms, language):
    report, findings = findings_of(language)
    data = report.data
    assert data.at_or_above.firms is None and data.at_or_above.share is None
    assert data.coverage.total.assessed is None and data.change.firms is None
    coverage, level, _weakest, _weaknesses, _barriers, change = (findings[t] for t in TOPICS[language])
    withheld = "不予显示" if language != "en" else "withheld"
    assert withheld in level and withheld in coverage
    # 3 firms (25.0%) at L5; 4 of 24 register firms assessed (16.7%); 5 firms with an earlier round.
    for text in (level, coverage):
        assert not re.search(r"(?<![\dL.])[345](?![\d.%])", text.replace("10", "")), text
        assert "25.0%" not in text and "16.7%" not in text
    assert "10" in change and not re.search(r"(?<![\d.])5(?![\d.])", change)
    page = squeeze(PdfReader(io.BytesIO(render_city_pdf(report)[2])).pages[0].extract_text())
    assert "25.0%" not in page and "16.7%" not in page
    assert squeeze(level) in page


@pytest.fixture
def sector_firms(questionnaire):
    """12 firms tagged both steel and biomed, 10 steel only, 11 biomed only, 5 untagged, 4 not in the register."""
    plan = [",biomed,steel,"] * 12 + [",steel,"] * 10 + [",biomed,"] * 11 + [""] * 5 + [None] * 4
    firms = []
    for n, tags in enumerate(plan):
        size = ("small", "medium")[n % 2]
        enterprise, _assessment = submitted_firm(questionnaire, district="370112", seed=n, size_class=size)
        if tags is not None:
            RegisterEntryFactory(uscc=enterprise.uscc, sectors=tags)
        firms.append((enterprise, tags))
    # The register rows are written past the import service, which moves the firms into their sector cells.
    services.summaries_rebuild()
    return firms


def direct_weak_share(enterprises, code: str) -> tuple[int, float | None]:
    scores = [
        float(s)
        for s in DimensionResult.objects.filter(
            assessment__in=latest_rounds().filter(enterprise__in=enterprises),
            dimension__code=code,
            insufficient_data=False,
            score__isnull=False,
        ).values_list("score", flat=True)
    ]
    weak = sum(s < 40 for s in scores)
    return len(scores), (100 * weak / len(scores) if weak >= 10 or weak == 0 else None)


def test_the_sector_prevalence_counts_a_firm_in_each_of_its_sectors(sector_firms):
    data = analytics.city_report(
        scope=scopes.AdminScope.city_wide(), filters=analytics.Filters(), language="zh-hans"
    ).data
    table = next(p for p in data.prevalence if p.key == "sector")
    assert table.overlapping
    rows = {row.key: row for row in table.rows}
    assert set(rows) == {"steel", "biomed"}
    steel = [e for e, tags in sector_firms if tags and ",steel," in tags]
    biomed = [e for e, tags in sector_firms if tags and ",biomed," in tags]
    assert (rows["steel"].firms, rows["biomed"].firms) == (22, 23)  # the 12 with both tags in each
    for position, dimension in enumerate(data.dimensions):
        for key, members in (("steel", steel), ("biomed", biomed)):
            n, share = direct_weak_share(members, dimension.code)
            assert rows[key].shares[position] == (pytest.approx(share) if share is not None else None), (key, n)
            cell = next(r for r in data.problem_areas[position].by_sector if r.key == key)
            assert cell.firms == n
    # Size is a partition: every firm once.
    sizes = {row.key: row.firms for row in next(p for p in data.prevalence if p.key == "size").rows}
    assert sizes == {"small": 21, "medium": 21}


def test_the_city_level_problems_carry_their_items_answers_and_levers(briefing_city):
    report, _findings = findings_of("zh-hans")
    problems = {p.code: p for p in report.data.city_problems}
    assert {"PB-DATA-SILO", "PB-SEC-SUPERVISION", "PB-NO-PLATFORM"} <= set(problems)
    silo = problems["PB-DATA-SILO"]
    [item] = silo.items
    answers = Answer.objects.filter(assessment__in=latest_rounds(), item__code="P5.8")
    answered = answers.filter(Q(score__isnull=False) | Q(special="unknown")).count()
    assert item.code == "P5.8" and item.answered == answered
    assert item.low_share == pytest.approx(100 * answers.filter(score__lte=1).count() / answered)
    assert item.high_share == pytest.approx(100 * answers.filter(score__gte=3).count() / answered)
    assert silo.levers and [cm.code for cm in silo.countermeasures] == ["CM4"]
    text = squeeze("".join(pages_text(render_city_pdf(report)[2])))
    assert squeeze(silo.text) in text and squeeze(silo.levers[0]) in text
    english, _findings = findings_of("en")
    silo_en = next(p for p in english.data.city_problems if p.code == "PB-DATA-SILO")
    assert silo_en.levers[0].startswith("Connect the information systems")
    assert "Lever at city level" in "".join(pages_text(render_city_pdf(english)[2]))


def test_the_weak_items_are_the_dashboards(briefing_city):
    """The report counts the answers once for the weak items and the city-level problems: the weak items are
    still exactly the dashboard's weaknesses (aggregates.weak_items)."""
    scope, filters = scopes.AdminScope.city_wide(), analytics.Filters()
    report = analytics.city_report(scope=scope, filters=filters, language="zh-hans")
    total, items = analytics.weak_items(scope, filters, limit=None)
    assert report.data.weak_rounds == total
    for area in report.data.problem_areas:
        assert area.weak_items == [i for i in items if i.dimension_code == area.stats.info.code][:5]
    first = {}
    for item in items:
        first.setdefault(item.code, item)
    assert report.data.top_weak_items == list(first.values())[:5]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_city_without_assessments_or_register_still_reads(questionnaire, language):
    report, findings = findings_of(language)
    coverage = findings[TOPICS[language][0]]
    assert ("has not been imported" if language == "en" else "尚未导入工商登记名录") in coverage
    assert report.data.change.firms == 0 and report.data.at_or_above.total == 0
    assert render_city_pdf(report)[2].startswith(b"%PDF")
