"""Helpers shared by the browser tests: UI text per language, logging in, test data, axe-core and the
static accessibility checks run inside the page."""

from __future__ import annotations

import json
import re
from pathlib import Path

try:
    from playwright.sync_api import expect
except ImportError:  # the chromium fixture skips (fails in CI) and says why
    expect = None

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_REPORTS = ARTIFACTS / "axe"

PASSWORD = "Quancheng-2026!"
FIRM_NAME = "济南泉城精密机械有限公司"

# The UI strings the tests look for, as a person reads them (msgid → the English catalogue).
TEXT = {
    "zh-hans": {
        "saved": "已自动保存",
        "start": "开始",
        "submit": "提交评估",
        "pdf": "下载PDF报告",
        "results": "评估结果",
        "submitted": "提交成功，评估结果已生成。",
        "invite": "生成邀请链接",
        "accept": "接受邀请",
        "switch_to": "English",
    },
    "en": {
        "saved": "Saved automatically",
        "start": "Start",
        "submit": "Submit assessment",
        "pdf": "Download PDF report",
        "results": "Assessment result",
        "submitted": "Submitted successfully. Your assessment results are ready.",
        "invite": "Generate invitation link",
        "accept": "Accept invitation",
        "switch_to": "中文",
    },
}
HTML_LANG = {"zh-hans": "zh-CN", "en": "en"}


def login(page, user, base_url: str) -> None:
    """Log ``user`` in by handing the browser a session made on the server (the login form itself is
    used in the flows)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}])


def load_questionnaire():
    from ..conftest import load_seed

    return load_seed()


def load_questionnaire_2026_2():
    """Questionnaire 2026.2 (rules version 2) after 2026.1: the version new rounds then use."""
    from surveys.models import Questionnaire
    from surveys.seeding import read_definition
    from surveys.services import questionnaire_upsert

    from ..conftest import SEED_2026_2_PATH

    definition = read_definition(SEED_2026_2_PATH)
    questionnaire_upsert(definition=definition)
    return Questionnaire.objects.get(version=definition["version"])


def firm_owner(*, name: str = FIRM_NAME):
    from ..model_factories import MembershipFactory

    return MembershipFactory(enterprise__name=name).user


def answer_all(assessment, user, *, value=2) -> None:
    from surveys.models import Item
    from surveys.services import AnswerChange, answers_save

    items = Item.objects.filter(questionnaire=assessment.questionnaire).order_by("id")
    changes = [AnswerChange(item_code=item.code, value=value, note="", base_revision=0) for item in items]
    outcome = answers_save(assessment=assessment, user=user, changes=changes)
    assert outcome.ok


def submitted_assessment(user, *, label: str = "2026 T0", value=2):
    from surveys.services import assessment_start, assessment_submit

    enterprise = user.membership.enterprise
    assessment = assessment_start(enterprise=enterprise, user=user, label=label)
    answer_all(assessment, user, value=value)
    return assessment_submit(assessment=assessment, user=user, pledge=True)


# --- accessibility ----------------------------------------------------------------------------------

BLOCKING_IMPACTS = {"serious", "critical"}


def axe_run(page, axe_source: str, label: str) -> list[dict]:
    """Run axe-core on the page as it is; write every violation to artifacts/axe/<label>.json and return
    those of impact serious or critical."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300),
                                          summary: n.failureSummary}))
            }));
        }"""
    )
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")
    (AXE_REPORTS / f"{safe}.json").write_text(
        json.dumps({"page": label, "url": page.url, "violations": results}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    return [v for v in results if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
        lines.extend(f"    {n['target']} {n['html'][:160]}" for n in v["nodes"][:5])
    return "\n".join(lines)


def unlabelled_controls(page) -> list[str]:
    """Visible form controls without an accessible name from a <label>, aria-label or aria-labelledby."""
    return page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter(el => el.type !== "hidden")
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                          && !el.getAttribute("aria-labelledby"))
            .map(el => el.outerHTML.slice(0, 200))"""
    )


def radio_groups_without_legend(page) -> list[str]:
    """Names of radio groups not inside a <fieldset> whose first child is a <legend> with text (the group's
    accessible name; a legend anywhere else names nothing, and HTML does not allow it there)."""
    return page.evaluate(
        """() => {
            const names = [...new Set([...document.querySelectorAll("input[type=radio]")].map(r => r.name))];
            return names.filter(name => {
                const radios = [...document.getElementsByName(name)];
                const fieldset = radios[0].closest("fieldset");
                if (!fieldset) return true;
                const legend = fieldset.querySelector(":scope > legend:first-child");
                return !legend || !legend.textContent.trim() || !radios.every(r => fieldset.contains(r));
            });
        }"""
    )


def focused_outline(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement, style = getComputedStyle(el);
            return {tag: el.tagName, type: el.type || "", name: el.name || "", text: (el.textContent || "").trim(),
                    outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth,
                    focusVisible: el.matches(":focus-visible")};
        }"""
    )
