"""Options carry the letters the gate texts quote ("B级（1分）"): score 0 is A, 1 B, 2 C, 3 D, 4 E, listed as
"B. 车间有网络覆盖…" on the questionnaire's pages, on the results page, in the PDF's appendix and on the
administrators' firm page, all from one helper (surveys/text.py ``option_text``)."""

import html
import re
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from surveys import services, text
from surveys.models import Assessment, Item, Membership
from surveys.scopes import ROLE_CITY
from surveys.seeding import read_definition
from tests.conftest import SEED_PATH
from tests.manage.conftest import make_admin
from tests.reports.conftest import create_firm_round

LETTERS = {0: "A", 1: "B", 2: "C", 3: "D", 4: "E"}


def squeeze(value: str) -> str:
    return re.sub(r"\s+", "", value)


def test_the_letters_of_the_scores():
    assert {score: text.option_letter(score) for score in LETTERS} == LETTERS
    assert text.option_text(1, "车间有网络覆盖") == "B. 车间有网络覆盖"
    for wrong in (-1, 5, "1", 1.0, None):
        with pytest.raises(ValueError):
            text.option_letter(wrong)


def test_the_gate_texts_quote_the_same_letters():
    quoted = [
        (letter, int(points))
        for gate in read_definition(SEED_PATH)["gates"]
        for letter, points in re.findall(r"([A-E])级（(\d)分）", gate["reason_zh"])
    ]
    assert quoted and all(text.option_letter(points) == letter for letter, points in quoted)


@pytest.mark.django_db
def test_the_questionnaire_page_lists_every_option_with_its_letter(owner_client, questionnaire):
    owner_client.post(reverse("surveys:round_start"), {"label": "2026 T0"})
    draft = Assessment.objects.get(status=Assessment.STATUS_DRAFT)  # ids are not 1 on PostgreSQL
    page = owner_client.get(reverse("surveys:page", args=[draft.pk, 1])).content.decode()
    items = Item.objects.filter(questionnaire=questionnaire, dimension__position=1).prefetch_related("options")
    assert items
    for item in items:
        for option in item.options.all():
            label = html.escape(f"{LETTERS[option.score]}. {option.label_zh}")
            assert re.search(
                rf'<input [^>]*id="a-{re.escape(item.code)}-{option.score}" value="{option.score}"[^>]*>\s*'
                rf'<label class="form-check-label" for="a-{re.escape(item.code)}-{option.score}">{re.escape(label)}'
                r"</label>",
                page,
            ), (item.code, option.score)


@pytest.mark.django_db
def test_answers_carry_the_letter_on_the_results_page_in_the_pdf_and_on_the_firm_page(client, questionnaire):
    assessment = create_firm_round(questionnaire)
    answers = {a.item.code: a for a in assessment.answers.select_related("item").prefetch_related("item__options")}
    chosen = [a for a in answers.values() if a.score is not None]
    assert chosen
    lettered = {
        a.item.code: f"{LETTERS[a.score]}. {next(o.label_zh for o in a.item.options.all() if o.score == a.score)}"
        for a in chosen
    }

    client.force_login(Membership.objects.get(enterprise=assessment.enterprise).user)
    pdf = client.get(reverse("surveys:report", args=[assessment.pk])).content
    appendix = squeeze("".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages))
    appendix = appendix[appendix.index("附录：全部题目与答案") :]
    for code, label in lettered.items():
        assert squeeze(f"{code}{answers[code].item.text_zh}{label}") in appendix, code
    results = client.get(reverse("surveys:results", args=[assessment.pk])).content.decode()
    triggers = re.findall(r"<li><strong>([^<]+)</strong> [^<]* — ([^<]*)</li>", results)
    assert triggers and all(html.unescape(answer) == lettered[code] for code, answer in triggers if code in lettered)

    services.administrator_roles_ensure()
    client.force_login(make_admin(ROLE_CITY))
    page = html.unescape(client.get(reverse("manage:firm", args=[assessment.enterprise_id])).content.decode())
    for code, label in lettered.items():
        assert re.search(
            rf'{re.escape(code)}</th>\s*<td class="small">[^<]*</td>\s*<td class="small">{re.escape(label)}</td>', page
        )
