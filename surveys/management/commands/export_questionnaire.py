import json

from django.core.management.base import BaseCommand, CommandError

from surveys import selectors
from surveys.models import Questionnaire


class Command(BaseCommand):
    help = "Print a stored questionnaire version as JSON (schema: seeds/README.md)."

    def add_arguments(self, parser):
        parser.add_argument("version")

    def handle(self, *args, version, **options):
        try:
            questionnaire = selectors.questionnaire_get(version=version)
        except Questionnaire.DoesNotExist as exc:
            raise CommandError(f"no questionnaire version {version!r}") from exc
        export = selectors.questionnaire_export(questionnaire=questionnaire)
        self.stdout.write(json.dumps(export, ensure_ascii=False, indent=2))
