"""Writes, one module per entity. Every function is atomic, takes keyword-only arguments and is named
<entity>_<action>."""

from __future__ import annotations

from .administrators import (
    administrator_grant,
    administrator_revoke,
    administrator_roles_ensure,
)
from .assessments import (
    CONTEXT_OTHER_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    AnswerChange,
    AnswerConflict,
    ContextAnswer,
    SaveOutcome,
    answers_save,
    assessment_start,
    assessment_submit,
    context_answer_clean,
    default_round_label,
)
from .enterprises import (
    INVITATION_DAYS,
    USCC_TAKEN,
    UsccReport,
    account_signup,
    enterprise_register,
    enterprise_update,
    enterprise_uscc_correct,
    invitation_accept,
    invitation_create,
    invitation_find,
    membership_approve,
    membership_remove,
    membership_request,
    uscc_report,
)
from .errors import (
    InvalidAnswersError,
    InvalidContextAnswersError,
    QuestionnaireInUseError,
    ServiceError,
    TooManyUnknownAnswersError,
)
from .questionnaires import (
    UpsertReport,
    questionnaire_touch,
    questionnaire_upsert,
)

__all__ = [
    "AnswerChange",
    "AnswerConflict",
    "CONTEXT_OTHER_MAX_LENGTH",
    "ContextAnswer",
    "INVITATION_DAYS",
    "InvalidAnswersError",
    "InvalidContextAnswersError",
    "NOTE_MAX_LENGTH",
    "QuestionnaireInUseError",
    "SaveOutcome",
    "ServiceError",
    "TooManyUnknownAnswersError",
    "USCC_TAKEN",
    "UpsertReport",
    "UsccReport",
    "account_signup",
    "administrator_grant",
    "administrator_revoke",
    "administrator_roles_ensure",
    "answers_save",
    "assessment_start",
    "assessment_submit",
    "context_answer_clean",
    "default_round_label",
    "enterprise_register",
    "enterprise_update",
    "enterprise_uscc_correct",
    "invitation_accept",
    "invitation_create",
    "invitation_find",
    "membership_approve",
    "membership_remove",
    "membership_request",
    "questionnaire_touch",
    "questionnaire_upsert",
    "uscc_report",
]
