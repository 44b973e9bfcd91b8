"""Re-scoring a submitted round after a correction of its questionnaire version's rules (the "rescore" job,
surveys/jobs/work.py): a new ResultRevision, the previous one kept and marked superseded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from .. import scoring, selectors
from ..models import Assessment, DimensionResult, ResultRevision
from .assessments import result_apply, result_revision_record
from .summaries import summaries_round_delete, summaries_round_insert

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def assessment_rescore(
    *, assessment: Assessment, user: User | None = None, job_id: int | None = None
) -> ResultRevision | None:
    """Score a submitted round again from its stored answers with its version's rules as they are now.

    A result that differs from the stored one becomes the round's next revision: the previous revision is
    marked superseded (a round submitted before revisions were kept first gets its revision 1 from its stored
    result), the round's figures and DimensionResult rows are replaced, and the round is moved in the summary
    tables (taken out as it was, put back as it is). Returns the new revision, or None when the result is
    unchanged (or the round is not submitted): running it twice, as a redelivered job does, adds nothing.
    A round the rules can no longer score raises scoring.IncompleteAnswersError with nothing written."""
    # The row lock serialises two deliveries of the same work, and waits for a change of the firm's summaries
    # (summaries_enterprise_lock); the version is read afresh, so its structure is the current rules'.
    row = Assessment.objects.select_for_update(of=("self",)).select_related("questionnaire").get(pk=assessment.pk)
    if row.status != Assessment.STATUS_SUBMITTED:
        return None
    structure = selectors.questionnaire_structure(questionnaire=row.questionnaire)
    result = scoring.score(structure.definition, selectors.assessment_answer_values(assessment=row), final=True)
    # Compared as stored (a JSON round trip), so that tuples, lists and floats compare alike.
    if json.loads(json.dumps(result.as_dict())) == row.result:
        return None
    now = timezone.now()
    if not ResultRevision.objects.filter(assessment=row).exists():
        result_revision_record(
            assessment=row, created_at=row.submitted_at or now, created_by_id=row.submitted_by_id, known=False
        )
    summaries_round_delete(assessment=row)  # as it is stored, before any of it changes
    ResultRevision.objects.filter(assessment=row, superseded_at__isnull=True).update(superseded_at=now)
    DimensionResult.objects.filter(assessment=row).delete()
    dimension_results = result_apply(assessment=row, result=result, structure=structure)
    row.result_revision += 1
    row.save(update_fields=["result", "index", "provisional_level", "level", "result_revision"])
    DimensionResult.objects.bulk_create(dimension_results)
    revision = result_revision_record(
        assessment=row, created_at=now, created_by_id=user.pk if user is not None else None, job_id=job_id
    )
    summaries_round_insert(assessment=row)
    assessment.result_revision = row.result_revision
    return revision
