"""The exceptions services raise; their messages are shown to the user as they are (already translated)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..scoring import SubmissionCheck


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


class ServiceError(Exception):
    """A refused action; ``message`` is shown to the user as it is (already translated)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(str(message))


class InvalidAnswersError(ServiceError):
    """The request names items or values the questionnaire does not offer (a tampered form)."""


class TooManyUnknownAnswersError(ServiceError):
    """A submission refused because too many answers are 不清楚 (rules version 2, scoring.submission_check):
    more than a third of all counted answers, or more than half of a dimension's. Nothing was written.

    ``check`` is the engine's verdict: the dimensions over their limit and, for each item to resolve, the
    department that usually knows the answer (``check.by_owner()``)."""

    def __init__(self, message: str, check: SubmissionCheck):
        super().__init__(message)
        self.check = check


class InvalidContextAnswersError(ServiceError):
    """Answers to the context questions that break their rules (an unknown option, too many options, a
    missing or over-long "other" text). ``errors``: question code → {"choices" or "other": message}."""

    def __init__(self, message: str, errors: dict[str, dict[str, str]]):
        super().__init__(message)
        self.errors = errors
