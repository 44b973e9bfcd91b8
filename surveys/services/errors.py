"""The exceptions services raise; their messages are shown to the user as they are (already translated)."""

from __future__ import annotations


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
