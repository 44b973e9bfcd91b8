"""Writes. Every function is atomic, takes keyword-only arguments and is named <entity>_<action>."""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import scoring, selectors
from .models import (
    Answer,
    Assessment,
    Countermeasure,
    Dimension,
    DimensionResult,
    Enterprise,
    Gate,
    Invitation,
    Item,
    Level,
    Membership,
    Option,
    Problem,
    Questionnaire,
    RecommendationRule,
)
from .seeding import diff_definitions, gate_params

# --- questionnaire definitions ----------------------------------------------------------------------


class QuestionnaireInUseError(Exception):
    """The version has submitted assessments; its definition may not change under them."""

    def __init__(self, version: str, changes: list[str]):
        self.version = version
        self.changes = changes
        listed = "\n  ".join(changes[:30])
        more = f"\n  … and {len(changes) - 30} more" if len(changes) > 30 else ""
        super().__init__(
            f"version {version} already has submitted assessments and cannot change; "
            f"publish the new definition under a new version. Differences:\n  {listed}{more}"
        )


@dataclass
class UpsertReport:
    version: str
    created_version: bool = False
    counts: Counter = field(default_factory=Counter)  # ("created"|"updated"|"deleted", model) -> n

    @property
    def changed(self) -> bool:
        return self.created_version or any(self.counts.values())

    def summary(self) -> str:
        if not self.changed:
            return f"questionnaire {self.version}: no change"
        parts = [f"{action} {n} {model}" for (action, model), n in sorted(self.counts.items()) if n]
        head = "created" if self.created_version else "updated"
        return f"questionnaire {self.version}: {head} ({', '.join(parts)})"


class _Syncer:
    def __init__(self, report: UpsertReport):
        self.report = report

    def sync(self, model, lookup: dict[str, Any], values: dict[str, Any]):
        obj = model.objects.filter(**lookup).first()
        name = model._meta.model_name
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean(validate_unique=False, validate_constraints=False)
            obj.save()
            self.report.counts["created", name] += 1
            return obj
        changed = [key for key, value in values.items() if getattr(obj, key) != value]
        if changed:
            for key in changed:
                setattr(obj, key, values[key])
            obj.full_clean(validate_unique=False, validate_constraints=False)
            obj.save(update_fields=changed)
            self.report.counts["updated", name] += 1
        return obj

    def delete_missing(self, queryset, keep_ids: set[int]) -> None:
        doomed = queryset.exclude(id__in=keep_ids)
        count = doomed.count()
        if count:
            doomed.delete()
            self.report.counts["deleted", queryset.model._meta.model_name] += count


@transaction.atomic
def questionnaire_upsert(*, definition: dict[str, Any], dry_run: bool = False) -> UpsertReport:
    """Create or update a version from a validated, normalized definition (seeding.read_definition).

    Idempotent: unchanged content writes nothing. Refuses (QuestionnaireInUseError) to change a version
    that has submitted assessments. With ``dry_run`` everything is computed and rolled back.
    """
    version = definition["version"]
    report = UpsertReport(version=version)
    questionnaire = Questionnaire.objects.select_for_update().filter(version=version).first()
    if questionnaire is not None:
        current = selectors.questionnaire_export(questionnaire=questionnaire)
        changes = diff_definitions(current, definition)
        if not changes:
            return report
        if selectors.questionnaire_is_in_use(questionnaire=questionnaire):
            raise QuestionnaireInUseError(version, changes)

    syncer = _Syncer(report)
    if questionnaire is None:
        report.created_version = True
        questionnaire = Questionnaire.objects.create(
            version=version,
            title_zh=definition["title_zh"],
            title_en=definition["title_en"],
            description_zh=definition["description_zh"],
            description_en=definition["description_en"],
        )
    else:
        syncer.sync(
            Questionnaire,
            {"id": questionnaire.id},
            {key: definition[key] for key in ("title_zh", "title_en", "description_zh", "description_en")},
        )

    dimensions: dict[str, Dimension] = {}
    for position, dim in enumerate(definition["dimensions"], start=1):
        dimensions[dim["code"]] = syncer.sync(
            Dimension,
            {"questionnaire": questionnaire, "code": dim["code"]},
            {
                "position": position,
                "weight": Decimal(str(dim["weight"])),
                **{
                    key: dim[key]
                    for key in ("name_zh", "name_en", "problem_zh", "problem_en", "description_zh", "description_en")
                },
            },
        )

    problems: dict[str, Problem] = {}
    for position, problem in enumerate(definition["problems"], start=1):
        problems[problem["code"]] = syncer.sync(
            Problem,
            {"questionnaire": questionnaire, "code": problem["code"]},
            {
                "position": position,
                "dimension": dimensions[problem["dimension"]],
                "text_zh": problem["text_zh"],
                "text_en": problem["text_en"],
            },
        )

    items: dict[str, Item] = {}
    position = 0
    for dim in definition["dimensions"]:
        for item_data in dim["items"]:
            position += 1
            item = syncer.sync(
                Item,
                {"questionnaire": questionnaire, "code": item_data["code"]},
                {
                    "position": position,
                    "dimension": dimensions[dim["code"]],
                    "weight": Decimal(str(item_data["weight"])),
                    **{
                        key: item_data[key]
                        for key in ("text_zh", "text_en", "help_zh", "help_en", "allows_unknown", "allows_na")
                    },
                },
            )
            items[item.code] = item
            for option in item_data["options"]:
                syncer.sync(
                    Option,
                    {"item": item, "score": option["score"]},
                    {"label_zh": option["label_zh"], "label_en": option["label_en"]},
                )
            wanted = {problems[code].id for code in item_data["covers"]}
            current_covers = set(item.covers.values_list("id", flat=True))
            if wanted != current_covers:
                item.covers.set(wanted)
                report.counts["updated", "coverage"] += 1

    # Answers in drafts for items that no longer exist go with them (submitted versions never get here).
    removed_items = Item.objects.filter(questionnaire=questionnaire).exclude(id__in=[i.id for i in items.values()])
    Answer.objects.filter(item__in=removed_items).delete()
    syncer.delete_missing(Item.objects.filter(questionnaire=questionnaire), {i.id for i in items.values()})
    syncer.delete_missing(Problem.objects.filter(questionnaire=questionnaire), {p.id for p in problems.values()})
    syncer.delete_missing(Dimension.objects.filter(questionnaire=questionnaire), {d.id for d in dimensions.values()})

    kept = set()
    for position, level in enumerate(definition["levels"], start=1):
        kept.add(
            syncer.sync(
                Level,
                {"questionnaire": questionnaire, "code": level["code"]},
                {
                    "position": position,
                    "min_index": Decimal(str(level["min_index"])).quantize(Decimal("0.01")),
                    **{key: level[key] for key in ("name_zh", "name_en", "description_zh", "description_en")},
                },
            ).id
        )
    syncer.delete_missing(Level.objects.filter(questionnaire=questionnaire), kept)

    kept = set()
    for position, gate in enumerate(definition["gates"], start=1):
        kept.add(
            syncer.sync(
                Gate,
                {"questionnaire": questionnaire, "code": gate["code"]},
                {
                    "position": position,
                    "kind": gate["kind"],
                    "guards_level": gate["guards_level"],
                    "params": gate_params(gate),
                    "reason_zh": gate["reason_zh"],
                    "reason_en": gate["reason_en"],
                },
            ).id
        )
    syncer.delete_missing(Gate.objects.filter(questionnaire=questionnaire), kept)

    kept_cm, kept_rules = set(), set()
    rule_position = 0
    for position, cm in enumerate(definition["countermeasures"], start=1):
        countermeasure = syncer.sync(
            Countermeasure,
            {"questionnaire": questionnaire, "code": cm["code"]},
            {
                "position": position,
                **{key: cm[key] for key in ("title_zh", "title_en", "heading_zh", "description_zh", "description_en")},
            },
        )
        kept_cm.add(countermeasure.id)
        for rule in cm["rules"]:
            rule_position += 1
            kept_rules.add(
                syncer.sync(
                    RecommendationRule,
                    {"questionnaire": questionnaire, "code": rule["code"]},
                    {
                        "position": rule_position,
                        "countermeasure": countermeasure,
                        "trigger": rule["trigger"],
                        "priority": rule["priority"],
                        "horizon": rule["horizon"],
                        "text_zh": rule["text_zh"],
                        "text_en": rule["text_en"],
                    },
                ).id
            )
    syncer.delete_missing(RecommendationRule.objects.filter(questionnaire=questionnaire), kept_rules)
    syncer.delete_missing(Countermeasure.objects.filter(questionnaire=questionnaire), kept_cm)

    if dry_run:
        transaction.set_rollback(True)
    return report


# --- firms and accounts -----------------------------------------------------------------------------


class ServiceError(Exception):
    """A refused action; ``message`` is shown to the user as it is (already translated)."""

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))


INVITATION_DAYS = 7


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def enterprise_register(*, user, enterprise_data: dict[str, Any]) -> Enterprise:
    """A new firm, with the signing-up user as its owner."""
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    enterprise = Enterprise(**enterprise_data)
    enterprise.full_clean()
    enterprise.save()
    Membership.objects.create(user=user, enterprise=enterprise, role=Membership.ROLE_OWNER)
    return enterprise


@transaction.atomic
def account_signup(
    *,
    username: str,
    email: str,
    password: str,
    enterprise_data: dict[str, Any] | None = None,
    join_enterprise: Enterprise | None = None,
):
    """Create the user and either a new firm (owner) or a pending request to join one, all or nothing."""
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    if enterprise_data is not None:
        enterprise_register(user=user, enterprise_data=enterprise_data)
    elif join_enterprise is not None:
        membership_request(user=user, enterprise=join_enterprise)
    return user


@transaction.atomic
def enterprise_update(*, user, enterprise: Enterprise, data: dict[str, Any]) -> Enterprise:
    """Change the firm's registered details: only its owner may (members read them)."""
    _require_owner(user, enterprise, message=_("只有企业负责人可以修改企业信息。"))
    for key, value in data.items():
        setattr(enterprise, key, value)
    enterprise.full_clean()
    enterprise.save()
    return enterprise


@transaction.atomic
def membership_request(*, user, enterprise: Enterprise) -> Membership:
    """Ask to join an existing firm; the owner approves."""
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    return Membership.objects.create(
        user=user, enterprise=enterprise, role=Membership.ROLE_MEMBER, status=Membership.STATUS_PENDING
    )


def _require_owner(owner, enterprise: Enterprise, *, message: str | None = None) -> None:
    membership = getattr(owner, "membership", None)
    if membership is None or membership.enterprise_id != enterprise.id or not membership.is_owner:
        raise ServiceError(message or _("只有企业负责人可以管理成员。"))


@transaction.atomic
def membership_approve(*, owner, membership: Membership) -> Membership:
    _require_owner(owner, membership.enterprise)
    membership.status = Membership.STATUS_ACTIVE
    membership.save(update_fields=["status"])
    return membership


@transaction.atomic
def membership_remove(*, owner, membership: Membership) -> None:
    _require_owner(owner, membership.enterprise)
    if membership.user_id == owner.id:
        raise ServiceError(_("负责人不能移除自己。"))
    membership.delete()


@transaction.atomic
def invitation_create(*, owner, enterprise: Enterprise, email: str = "") -> str:
    """A one-time link token; only its hash is stored. Returns the raw token for the link."""
    _require_owner(owner, enterprise)
    token = secrets.token_urlsafe(32)
    Invitation.objects.create(
        enterprise=enterprise,
        token_hash=_token_hash(token),
        email=email,
        created_by=owner,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
    )
    return token


def invitation_find(*, token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("enterprise").filter(token_hash=_token_hash(token)).first()
    if invitation is None or invitation.used_at is not None or invitation.expires_at < timezone.now():
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user) -> Membership:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("enterprise")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at < timezone.now():
        raise ServiceError(_("邀请链接无效、已使用或已过期。请向企业负责人索取新的链接。"))
    if Membership.objects.filter(user=user).exists():
        raise ServiceError(_("此账号已属于一家企业。"))
    invitation.used_at = timezone.now()
    invitation.used_by = user
    invitation.save(update_fields=["used_at", "used_by"])
    return Membership.objects.create(user=user, enterprise=invitation.enterprise, role=Membership.ROLE_MEMBER)


# --- assessment rounds ------------------------------------------------------------------------------


def default_round_label(*, enterprise: Enterprise) -> str:
    year = timezone.localdate().year
    existing = set(Assessment.objects.filter(enterprise=enterprise).values_list("label", flat=True))
    n = 0
    while f"{year} T{n}" in existing:
        n += 1
    return f"{year} T{n}"


@transaction.atomic
def assessment_start(*, enterprise: Enterprise, user, label: str = "") -> Assessment:
    """Open a new round, or return the firm's open draft: a firm never has two."""
    Enterprise.objects.select_for_update().filter(id=enterprise.id).first()
    draft = Assessment.objects.filter(enterprise=enterprise, status=Assessment.STATUS_DRAFT).first()
    if draft is not None:
        return draft
    questionnaire = selectors.questionnaire_current()
    if questionnaire is None:
        raise ServiceError(_("尚未发布问卷，请联系管理员。"))
    label = label.strip() or default_round_label(enterprise=enterprise)
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


@dataclass
class SaveOutcome:
    revisions: dict[str, int] = field(default_factory=dict)  # item code -> revision now stored
    conflicts: list[AnswerConflict] = field(default_factory=list)
    answered: int = 0  # items of the round with a value, after the save (also on a conflict)
    total: int = 0  # items of the questionnaire

    @property
    def ok(self) -> bool:
        return not self.conflicts


class InvalidAnswersError(ServiceError):
    """The request names items or values the questionnaire does not offer (a tampered form)."""


NOTE_MAX_LENGTH = 1000


def _storable_text(text: str) -> bool:
    """No NUL (PostgreSQL text refuses it) and no lone surrogate (not encodable as UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lock_draft(assessment_id: int) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(id=assessment_id)
    if assessment.status != Assessment.STATUS_DRAFT:
        raise ServiceError(_("本轮评估已提交，答案不能再修改。"))
    return assessment


class _ItemRule(NamedTuple):
    id: int
    code: str
    dimension_id: int
    allows_unknown: bool
    allows_na: bool


@transaction.atomic
def answers_save(*, assessment: Assessment, user, changes: list[AnswerChange], page: int | None = None) -> SaveOutcome:
    """Save answers with a per-answer version check: all or nothing.

    A change based on an older revision than the stored one, whose content differs from what is stored,
    is a conflict: nothing of the request is saved and the caller gets the stored values to show.
    """
    assessment = _lock_draft(assessment.id)
    # Autosave calls this on every click: the items are read as plain rows of the columns checked here.
    items = {
        row[1]: _ItemRule(*row)
        for row in Item.objects.filter(questionnaire_id=assessment.questionnaire_id).values_list(
            "id", "code", "dimension_id", "allows_unknown", "allows_na"
        )
    }
    if page is not None and not 1 <= page <= len({item.dimension_id for item in items.values()}):
        page = None  # only a page the questionnaire has is remembered for resuming
    for change in changes:
        item = items.get(change.item_code)
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
    code_of = {items[c.item_code].id: c.item_code for c in changes}
    existing = {
        code_of[answer.item_id]: answer
        for answer in Answer.objects.select_related("updated_by").filter(assessment=assessment, item_id__in=code_of)
    }
    outcome = SaveOutcome(total=len(items))
    for change in changes:
        current = existing.get(change.item_code)
        current_revision = current.revision if current else 0
        if change.base_revision != current_revision:
            same = current is not None and current.value == change.value and current.note == change.note
            if not same:
                outcome.conflicts.append(
                    AnswerConflict(
                        item_code=change.item_code,
                        theirs_value=current.value if current else None,
                        theirs_note=current.note if current else "",
                        revision=current_revision,
                        updated_by=str(current.updated_by) if current and current.updated_by else "",
                    )
                )
    if outcome.conflicts:
        outcome.answered = _answered_count(assessment)
        return outcome
    for change in changes:
        current = existing.get(change.item_code)
        score = change.value if type(change.value) is int else None
        special = change.value if isinstance(change.value, str) else ""
        if current is None:
            if change.value is None and not change.note:
                continue
            current = Answer(assessment=assessment, item_id=items[change.item_code].id, revision=0)
        elif current.value == change.value and current.note == change.note:
            outcome.revisions[change.item_code] = current.revision
            continue
        current.score, current.special, current.note = score, special, change.note
        current.revision += 1
        current.updated_by = user
        # Field checks only: the relations were resolved above, and the unique and check constraints, which
        # full_clean would test with a query each, are enforced by the database in this transaction.
        current.full_clean(
            exclude=["assessment", "item", "updated_by"], validate_unique=False, validate_constraints=False
        )
        current.save()
        outcome.revisions[change.item_code] = current.revision
    update_fields = ["updated_at"]
    if page is not None:
        assessment.last_page = page
        update_fields.append("last_page")
    assessment.save(update_fields=update_fields)
    outcome.answered = _answered_count(assessment)
    return outcome


def _answered_count(assessment: Assessment) -> int:
    return Answer.objects.filter(assessment=assessment).filter(Q(score__isnull=False) | ~Q(special="")).count()


@transaction.atomic
def assessment_submit(*, assessment: Assessment, user, pledge: bool) -> Assessment:
    """Score and freeze a draft. Two racing submissions give exactly one: the row lock serialises them."""
    if not pledge:
        raise ServiceError(_("提交前请确认真实性承诺。"))
    assessment = _lock_draft(assessment.id)
    definition = selectors.questionnaire_definition(questionnaire=assessment.questionnaire)
    answers = selectors.assessment_answer_values(assessment=assessment)
    try:
        result = scoring.score(definition, answers, final=True)
    except scoring.IncompleteAnswersError as exc:
        raise ServiceError(
            _("还有 %(count)d 题未作答：%(codes)s。") % {"count": len(exc.missing), "codes": "、".join(exc.missing)}
        ) from exc
    now = timezone.now()
    Assessment.objects.filter(enterprise_id=assessment.enterprise_id, is_latest=True).update(is_latest=False)
    assessment.status = Assessment.STATUS_SUBMITTED
    assessment.submitted_at = now
    assessment.submitted_by = user
    assessment.result = result.as_dict()
    assessment.index = Decimal(str(round(result.index, 2)))
    assessment.provisional_level = result.provisional_level
    assessment.level = result.level
    assessment.is_latest = True
    assessment.save()
    dimensions = {d.code: d for d in Dimension.objects.filter(questionnaire_id=assessment.questionnaire_id)}
    DimensionResult.objects.bulk_create(
        DimensionResult(
            assessment=assessment,
            dimension=dimensions[d.code],
            score=None if d.score is None else Decimal(str(round(d.score, 2))),
            unknown_share=Decimal(str(round(d.unknown_share, 4))),
            insufficient_data=d.insufficient_data,
        )
        for d in result.dimensions
    )
    return assessment


# --- administrators ---------------------------------------------------------------------------------


@transaction.atomic
def administrator_roles_ensure():
    """Create (or repair) the two administrator groups with their permissions; idempotent.

    Returns {role: Group}. The permissions are listed in surveys/scopes.py (ROLE_PERMISSIONS).
    """
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    from .audit.models import AuditEvent
    from .models import AdministratorScope
    from .scopes import ROLE_GROUPS, ROLE_PERMISSIONS

    # Normally created by migrate's post_migrate signal; made here too so that the command also works on a
    # database migrated before a permission was added.
    declared = {}
    for model in (AdministratorScope, AuditEvent):
        content_type = ContentType.objects.get_for_model(model)
        for codename, name in model._meta.permissions:
            declared[f"{model._meta.app_label}.{codename}"] = (content_type, codename, name)
    by_name = {}
    for full_name in sorted({name for names in ROLE_PERMISSIONS.values() for name in names}):
        content_type, codename, name = declared[full_name]
        by_name[full_name], _created = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
    groups = {}
    for role, group_name in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        group.permissions.set([by_name[name] for name in ROLE_PERMISSIONS[role]])
        groups[role] = group
    return groups


@transaction.atomic
def administrator_grant(*, user, role: str, districts: list[str] | tuple[str, ...] = ()):
    """Make ``user`` a city (role "city") or district administrator (role "district", for ``districts``).

    A user holds one administrator role at a time: granting one removes the other.
    """
    from .models import AdministratorScope
    from .scopes import ROLE_CITY, ROLE_DISTRICT

    if role not in (ROLE_CITY, ROLE_DISTRICT):
        raise ServiceError(_("未知的管理员角色。"))
    if role == ROLE_DISTRICT and not districts:
        raise ServiceError(_("区县管理员至少需要一个负责区县。"))
    groups = administrator_roles_ensure()
    user.groups.remove(*groups.values())
    user.groups.add(groups[role])
    scope = AdministratorScope.objects.filter(user=user).first() or AdministratorScope(user=user)
    scope.districts = sorted(set(districts)) if role == ROLE_DISTRICT else []
    scope.full_clean()
    scope.save()
    # Django caches permissions on the user object; drop the cache so the new role applies at once.
    for attribute in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attribute, None)
    return scope


@transaction.atomic
def administrator_revoke(*, user) -> None:
    from .models import AdministratorScope

    groups = administrator_roles_ensure()
    user.groups.remove(*groups.values())
    AdministratorScope.objects.filter(user=user).delete()
    for attribute in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attribute, None)
