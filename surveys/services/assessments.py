"""Writes of a firm's rounds: start, autosave (with conflict detection) and submission with scoring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import scoring, selectors
from ..models import (
    Answer,
    Assessment,
    ContextQuestion,
    DimensionResult,
    Enterprise,
    ResultRevision,
)
from ..selectors.structure import ItemRule, QuestionnaireStructure
from ..text import clean_user_text, join_list
from .errors import InvalidAnswersError, InvalidContextAnswersError, ServiceError, TooManyUnknownAnswersError
from .summaries import summaries_add_round

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def default_round_label(*, enterprise: Enterprise) -> str:
    year = timezone.localdate().year
    existing = set(Assessment.objects.filter(enterprise=enterprise).values_list("label", flat=True))
    n = 0
    while f"{year} T{n}" in existing:
        n += 1
    return f"{year} T{n}"


@transaction.atomic
def assessment_start(*, enterprise: Enterprise, user: User, label: str = "") -> Assessment:
    """Open a new round, or return the firm's open draft: a firm never has two."""
    Enterprise.objects.select_for_update().filter(id=enterprise.id).first()
    draft = Assessment.objects.filter(enterprise=enterprise, status=Assessment.STATUS_DRAFT).first()
    if draft is not None:
        return draft
    questionnaire = selectors.questionnaire_current()
    if questionnaire is None:
        raise ServiceError(_("尚未发布问卷，请联系管理员。"))
    label = clean_user_text(label) or default_round_label(enterprise=enterprise)
    if Assessment.objects.filter(enterprise=enterprise, label=label).exists():
        raise ServiceError(_("轮次名称“%(label)s”已被使用，请换一个。") % {"label": label})
    return Assessment.objects.create(enterprise=enterprise, questionnaire=questionnaire, label=label, created_by=user)


@dataclass(frozen=True)
class AnswerChange:
    item_code: str
    value: int | str | None  # 0–4, "unknown", "na", or None for "no option chosen yet"
    note: str
    base_revision: int  # the revision the user's page showed; 0 for "no answer yet"


@dataclass(frozen=True)
class AnswerConflict:
    item_code: str
    theirs_value: int | str | None
    theirs_note: str
    revision: int
    updated_by: str
    # The stored answer was saved by the same account (another tab or window), not by a colleague.
    same_account: bool = False


@dataclass
class SaveOutcome:
    revisions: dict[str, int] = field(default_factory=dict)  # item code -> revision now stored
    conflicts: list[AnswerConflict] = field(default_factory=list)
    answered: int = 0  # items of the round with a value, after the save (also on a conflict)
    total: int = 0  # items of the questionnaire

    @property
    def ok(self) -> bool:
        return not self.conflicts


NOTE_MAX_LENGTH = 1000


def _storable_text(text: str) -> bool:
    """No NUL (PostgreSQL text refuses it) and no lone surrogate (not encodable as UTF-8). Text that went
    through clean_user_text() has no NUL left; a lone surrogate it leaves for this check to refuse."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lock_draft(assessment_id: int) -> Assessment:
    assessment = (
        Assessment.objects.select_for_update(of=("self",)).select_related("questionnaire").get(id=assessment_id)
    )
    if assessment.status != Assessment.STATUS_DRAFT:
        raise ServiceError(_("本轮评估已提交，答案不能再修改。"))
    return assessment


def _touch_draft(assessment: Assessment, page: int | None) -> None:
    """Stamp the draft as saved now (and the page to resume on): the UPDATE also takes the row's lock, which
    serialises saves of one round, and finds no row once the round is submitted (ServiceError)."""
    values: dict[str, Any] = {"updated_at": timezone.now()}
    if page is not None:
        values["last_page"] = page
    # Plain SQL: an autosave sends this with every click, and the ORM's update costs more to build than to run.
    ops = connection.ops
    assignments = ", ".join(f"{ops.quote_name(name)} = %s" for name in values)
    params = [ops.adapt_datetimefield_value(values["updated_at"]), *([page] if page is not None else [])]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ops.quote_name(Assessment._meta.db_table)} SET {assignments} WHERE id = %s AND status = %s",
            [*params, assessment.id, Assessment.STATUS_DRAFT],
        )
        if not cursor.rowcount:
            raise ServiceError(_("本轮评估已提交，答案不能再修改。"))
    for name, value in values.items():
        setattr(assessment, name, value)


@transaction.atomic
def answers_save(
    *, assessment: Assessment, user: User, changes: list[AnswerChange], page: int | None = None
) -> SaveOutcome:
    """Save answers with a per-answer version check: all or nothing.

    A change based on an older revision than the stored one, whose content differs from what is stored,
    is a conflict: nothing of the request is saved and the caller gets the stored values to show.

    ``assessment``: a round of the user's firm, as the caller read it (with its questionnaire). Its row is
    locked first, by the update that stamps it; then one read of its answers and one write per kind (new
    answers, changed answers), whatever the number of changes: an autosave costs four statements.
    """
    structure = selectors.questionnaire_structure(questionnaire=assessment.questionnaire)
    items = structure.item_rules
    # Notes as they are stored (text.clean_user_text), whichever way they came: form, autosave, a command.
    changes = [replace(c, note=clean_user_text(c.note, multiline=True)) for c in changes]
    for change in changes:
        _check_change(change, items.get(change.item_code))
    if page is not None and not 1 <= page <= len(structure.dimensions):
        page = None  # only a page the questionnaire has is remembered for resuming
    _touch_draft(assessment, page)
    stored = {row.item_id: row for row in _stored_answers(assessment.id)}
    existing = {c.item_code: stored.get(items[c.item_code].id) for c in changes}
    outcome = SaveOutcome(total=len(items))
    outcome.conflicts = [
        conflict for change in changes if (conflict := _conflict(change, existing[change.item_code], user)) is not None
    ]
    if outcome.conflicts:
        transaction.set_rollback(True)  # nothing of the request is kept, not even the stamp
    else:
        created: list[Answer] = []
        updated: list[_StoredAnswer] = []
        now = timezone.now()
        for change in changes:
            current = existing[change.item_code]
            if current is not None and current.value == change.value and current.note == change.note:
                outcome.revisions[change.item_code] = current.revision
                continue
            if current is None and change.value is None and not change.note:
                continue  # nothing to keep
            row = _StoredAnswer.of(change, item_id=items[change.item_code].id, current=current, user=user, now=now)
            outcome.revisions[change.item_code] = row.revision
            stored[row.item_id] = row
            if current is None:
                created.append(row.as_answer(assessment))
            else:
                updated.append(row)
        Answer.objects.bulk_create(created)
        _answers_update(updated)
    outcome.answered = sum(1 for row in stored.values() if row.value is not None)
    return outcome


@dataclass(frozen=True)
class _StoredAnswer:
    """An answer row as a save reads and writes it: plain values, not a model (a save reads every answer of
    the round and usually writes one)."""

    item_id: int
    id: int | None
    score: int | None
    special: str
    note: str
    revision: int
    updated_by_id: int | None

    @property
    def value(self) -> scoring.AnswerValue | None:
        return self.special or self.score

    @classmethod
    def of(
        cls, change: AnswerChange, *, item_id: int, current: _StoredAnswer | None, user: User, now: Any
    ) -> _StoredAnswer:
        """The row after ``change`` (checked by _check_change), one revision on from ``current``."""
        return cls(
            item_id=item_id,
            id=current.id if current else None,
            score=change.value if type(change.value) is int else None,
            special=change.value if isinstance(change.value, str) else "",
            note=change.note,
            revision=(current.revision if current else 0) + 1,
            updated_by_id=user.pk,
        )

    def as_answer(self, assessment: Assessment) -> Answer:
        return Answer(
            assessment=assessment,
            item_id=self.item_id,
            score=self.score,
            special=self.special,
            note=self.note,
            revision=self.revision,
            updated_by_id=self.updated_by_id,
        )


def _stored_answers(assessment_id: int) -> list[_StoredAnswer]:
    """Every answer of the round, in one plain SELECT (sent with every autosave)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("item_id", "id", "score", "special", "note", "revision", "updated_by_id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(Answer._meta.db_table)} WHERE assessment_id = %s", [assessment_id]
        )
        return [_StoredAnswer(*row) for row in cursor.fetchall()]


def _answers_update(rows: list[_StoredAnswer]) -> None:
    """Write changed answers, one UPDATE each in one round trip (executemany). Not bulk_update: its CASE WHEN
    per field and row cost more to build than the write itself, and an autosave writes one row."""
    if not rows:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(Answer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET score = %s, special = %s, note = %s, revision = %s, updated_by_id = %s, "
            "updated_at = %s WHERE id = %s",
            [(r.score, r.special, r.note, r.revision, r.updated_by_id, now, r.id) for r in rows],
        )


def _check_change(change: AnswerChange, item: ItemRule | None) -> None:
    """Refuse (InvalidAnswersError) an item the questionnaire lacks, a value it does not offer, a bad note."""
    if item is None:
        raise InvalidAnswersError(_("问卷中没有题目“%(code)s”。") % {"code": change.item_code})
    value = change.value
    allowed = (
        (value is None)
        or (type(value) is int and 0 <= value <= scoring.MAX_SCORE)
        or (value == scoring.UNKNOWN and item.allows_unknown)
        or (value == scoring.NOT_APPLICABLE and item.allows_na)
    )
    if not allowed:
        raise InvalidAnswersError(_("题目 %(code)s 没有这个选项。") % {"code": item.code})
    if len(change.note) > NOTE_MAX_LENGTH:
        raise InvalidAnswersError(
            _("题目 %(code)s 的备注超过 %(max)d 字。") % {"code": item.code, "max": NOTE_MAX_LENGTH}
        )
    if not _storable_text(change.note):
        raise InvalidAnswersError(_("提交的数据无效，请刷新页面。"))


def _conflict(change: AnswerChange, current: _StoredAnswer | None, user: User) -> AnswerConflict | None:
    """The stored answer, if the change was based on an older revision and differs from it."""
    current_revision = current.revision if current else 0
    if change.base_revision == current_revision:
        return None
    if current is not None and current.value == change.value and current.note == change.note:
        return None
    return AnswerConflict(
        item_code=change.item_code,
        theirs_value=current.value if current else None,
        theirs_note=current.note if current else "",
        revision=current_revision,
        updated_by=_user_name(current.updated_by_id) if current else "",
        same_account=current is not None and current.updated_by_id is not None and current.updated_by_id == user.pk,
    )


def _user_name(user_id: int | None) -> str:
    """Who saved the stored answer of a conflict, as the conflict message names them."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    return str(user) if user is not None else ""


# --- the context questions: unscored, answered on the review page and stored with the submission ------

CONTEXT_OTHER_MAX_LENGTH = 200


@dataclass(frozen=True)
class ContextAnswer:
    """A firm's answer to one context question: the option codes ticked and the "other" option's text."""

    choices: tuple[str, ...] = ()
    other: str = ""


def context_answer_clean(*, question: ContextQuestion, answer: ContextAnswer) -> tuple[ContextAnswer, dict[str, str]]:
    """The answer normalised (options once each, in the question's order; the text's white space collapsed)
    and what is wrong with it, by field ("choices", "other"), in the user's language: an option the question
    does not offer, more options than it allows, the "other" text missing when "other" is ticked, given
    when it is not, or longer than CONTEXT_OTHER_MAX_LENGTH. An empty answer (the question skipped) is valid."""
    options = selectors.context_options(question)
    codes = [o.code for o in options]
    errors: dict[str, str] = {}
    if any(code not in codes for code in answer.choices):
        errors["choices"] = _("题目 %(code)s 没有这个选项。") % {"code": question.code}
    chosen = tuple(code for code in codes if code in answer.choices)
    limit = (question.max_choices or len(codes)) if question.multiple else 1
    if len(chosen) > limit:
        errors["choices"] = _("最多可选 %(max)d 项，当前选了 %(count)d 项。") % {"max": limit, "count": len(chosen)}
    other = clean_user_text(answer.other)
    other_option = next((o for o in options if o.other), None)
    if other and (other_option is None or not _storable_text(other)):
        errors["other"] = _("提交的数据无效，请刷新页面。")
    elif len(other) > CONTEXT_OTHER_MAX_LENGTH:
        errors["other"] = _("说明最多 %(max)d 字，当前 %(length)d 字。") % {
            "max": CONTEXT_OTHER_MAX_LENGTH,
            "length": len(other),
        }
    elif other_option is not None and other_option.code in chosen and not other:
        errors["other"] = _("已勾选“%(label)s”，请简要说明。") % {"label": other_option.label}
    elif other_option is not None and other and other_option.code not in chosen:
        errors["other"] = _("填写了说明但未勾选“%(label)s”：请勾选该项，或清空说明。") % {"label": other_option.label}
    return ContextAnswer(choices=chosen, other=other), errors


def _context_values(
    questions_in_order: Sequence[ContextQuestion], context: Mapping[str, ContextAnswer]
) -> dict[str, dict[str, Any]]:
    """What Assessment.context stores: {code: {"choices": [...], "other": "..."}} for the questions answered
    (a question skipped is left out); InvalidContextAnswersError, naming every problem, when any rule is broken."""
    questions = {q.code: q for q in questions_in_order}
    if any(code not in questions for code in context):
        raise InvalidContextAnswersError(_("提交的数据无效，请刷新页面。"), {})
    values, errors = {}, {}
    for code, question in questions.items():
        answer, problems = context_answer_clean(question=question, answer=context.get(code, ContextAnswer()))
        if problems:
            errors[code] = problems
        elif answer.choices:
            values[code] = {"choices": list(answer.choices), "other": answer.other}
    if errors:
        first = next(iter(errors.values()))
        raise InvalidContextAnswersError(next(iter(first.values())), errors)
    return values


def _too_many_unknowns_message(check: scoring.SubmissionCheck, names: Mapping[str, str]) -> str:
    crowded = join_list(names.get(b.dimension, b.dimension) for b in check.dimensions if b.too_many)
    if check.too_many_overall and crowded:
        message = _(
            "本轮评估暂不能提交：超过三分之一的答案（%(unknown)d / %(counted)d 题）为“不清楚”，"
            "其中维度%(dimensions)s超过一半。请向了解情况的部门核实，把“不清楚”改为相应的选项后再提交。"
        )
    elif check.too_many_overall:
        message = _(
            "本轮评估暂不能提交：超过三分之一的答案（%(unknown)d / %(counted)d 题）为“不清楚”。"
            "请向了解情况的部门核实，把“不清楚”改为相应的选项后再提交。"
        )
    else:
        message = _(
            "本轮评估暂不能提交：维度%(dimensions)s超过一半的答案为“不清楚”。"
            "请向了解情况的部门核实，把“不清楚”改为相应的选项后再提交。"
        )
    return message % {"unknown": check.unknown, "counted": check.counted, "dimensions": crowded}


@transaction.atomic
def assessment_submit(
    *, assessment: Assessment, user: User, pledge: bool, context: Mapping[str, ContextAnswer] | None = None
) -> Assessment:
    """Score and freeze a draft, with the answers to the version's context questions (``context``: question
    code → answer; None keeps what the round holds). Two racing submissions give exactly one: the row lock
    serialises them.

    Refused, with nothing written: without the pledge; with invalid context answers
    (InvalidContextAnswersError); with too many 不清楚 answers under rules version 2
    (TooManyUnknownAnswersError, carrying scoring.submission_check's verdict); with unanswered items."""
    if not pledge:
        raise ServiceError(_("提交前请确认真实性承诺。"))
    assessment = _lock_draft(assessment.id)
    structure = selectors.questionnaire_structure(questionnaire=assessment.questionnaire)
    context_values = None if context is None else _context_values(structure.context_questions, context)
    definition = structure.definition
    answers = selectors.assessment_answer_values(assessment=assessment)
    check = scoring.submission_check(definition, answers)
    dimensions = structure.dimensions_by_code
    if not check.allowed:
        names = {code: f"“{d.name}”" for code, d in dimensions.items()}
        raise TooManyUnknownAnswersError(_too_many_unknowns_message(check, names), check)
    try:
        result = scoring.score(definition, answers, final=True)
    except scoring.IncompleteAnswersError as exc:
        raise ServiceError(
            _("还有 %(count)d 题未作答：%(codes)s。") % {"count": len(exc.missing), "codes": join_list(exc.missing)}
        ) from exc
    now = timezone.now()
    Assessment.objects.filter(enterprise_id=assessment.enterprise_id, is_latest=True).update(is_latest=False)
    assessment.status = Assessment.STATUS_SUBMITTED
    assessment.submitted_at = now
    assessment.submitted_by = user
    dimension_results = result_apply(assessment=assessment, result=result, structure=structure)
    assessment.is_latest = True
    if context_values is not None:
        assessment.context = context_values
    assessment.save()
    DimensionResult.objects.bulk_create(dimension_results)
    result_revision_record(assessment=assessment, created_at=now, created_by_id=user.pk)
    summaries_add_round(assessment=assessment)
    return assessment


# --- a round's result and its revisions (shared by the submission and services/revisions.py) ----------


def result_apply(
    *, assessment: Assessment, result: scoring.Result, structure: QuestionnaireStructure
) -> list[DimensionResult]:
    """Put ``result`` on the round's row (not saved: the caller saves it) as revision ``result_revision``; its
    DimensionResult rows, unsaved, for the caller to write once the round's old ones are gone."""
    assessment.result = result.as_dict()
    assessment.index = Decimal(str(round(result.index, 2)))
    assessment.provisional_level = result.provisional_level
    assessment.level = result.level
    dimensions = structure.dimensions_by_code
    return [
        DimensionResult(
            assessment=assessment,
            dimension=dimensions[d.code],
            score=None if d.score is None else Decimal(str(round(d.score, 2))),
            unknown_share=Decimal(str(round(d.unknown_share, 4))),
            insufficient_data=d.insufficient_data,
        )
        for d in result.dimensions
    ]


def result_revision_record(
    *, assessment: Assessment, created_at: Any, created_by_id: int | None, job_id: int | None = None, known: bool = True
) -> ResultRevision:
    """The round's current result (as on its row, revision ``result_revision``) kept as a ResultRevision.
    ``known``: the version's rules as they are now scored it (False for a result recorded late: its stamp is
    then unknown)."""
    questionnaire = assessment.questionnaire
    return ResultRevision.objects.create(
        assessment=assessment,
        number=assessment.result_revision,
        result=assessment.result,
        index=assessment.index,
        provisional_level=assessment.provisional_level,
        level=assessment.level,
        questionnaire_version=questionnaire.version,
        # The result says which rules version scored it (results of version 1 have no such key).
        rules_version=int((assessment.result or {}).get("rules_version", scoring.RULES_VERSION_1)),
        rules_stamp=questionnaire.updated_at if known else None,
        created_at=created_at,
        created_by_id=created_by_id,
        job_id=job_id,
    )
