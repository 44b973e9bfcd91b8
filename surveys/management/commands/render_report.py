from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from surveys import selectors
from surveys.models import Assessment
from surveys.reports import render_assessment_pdf
from surveys.uscc import normalize as normalize_uscc

LANGUAGES = ("zh-hans", "en")

UNKNOWN_USCC = "no firm with USCC {uscc!r}"
UNKNOWN_ROUND = "firm {uscc} has no round {label!r} (rounds: {labels})"
DRAFT_ROUND = "round {label!r} of firm {uscc} is still a draft: only submitted rounds have a report"
NO_SUBMITTED_ROUND = "firm {uscc} has no submitted round yet"


class Command(BaseCommand):
    help = "Write the PDF report of a firm's round (by default its latest submitted one)."

    def add_arguments(self, parser):
        parser.add_argument("--uscc", required=True, help="the firm's unified social credit code")
        parser.add_argument("--round", dest="round_label", help="round label; default: the latest submitted round")
        parser.add_argument("--lang", choices=LANGUAGES, default=None, help="report language (default: zh-hans)")
        parser.add_argument("--out", required=True, help="the PDF file to write")

    def handle(self, *args, uscc, round_label, lang, out, **options):
        uscc = normalize_uscc(uscc)
        enterprise = selectors.enterprise_by_uscc(uscc=uscc)
        if enterprise is None:
            raise CommandError(UNKNOWN_USCC.format(uscc=uscc))
        rounds = list(selectors.assessment_list_for_enterprise(enterprise=enterprise))
        if round_label is not None:
            assessment = next((a for a in rounds if a.label == round_label), None)
            if assessment is None:
                labels = ", ".join(repr(a.label) for a in rounds) or "none"
                raise CommandError(UNKNOWN_ROUND.format(uscc=uscc, label=round_label, labels=labels))
            if assessment.status != Assessment.STATUS_SUBMITTED:
                raise CommandError(DRAFT_ROUND.format(uscc=uscc, label=round_label))
        else:
            submitted = [a for a in rounds if a.status == Assessment.STATUS_SUBMITTED]
            if not submitted:
                raise CommandError(NO_SUBMITTED_ROUND.format(uscc=uscc))
            assessment = max(submitted, key=lambda a: (a.submitted_at, a.id))
        language = lang or (settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in LANGUAGES else "zh-hans")
        report = selectors.assessment_report(assessment=assessment, language=language)
        filename, _mimetype, data = render_assessment_pdf(report)
        path = Path(out)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        self.stdout.write(f"wrote {path} ({len(data)} bytes; {assessment.label}, {language}; download name {filename})")
