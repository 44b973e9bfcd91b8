from django.core.management.base import BaseCommand, CommandError

from surveys.seeding import DefinitionError, read_definition
from surveys.services import QuestionnaireInUseError, questionnaire_upsert


class Command(BaseCommand):
    help = "Validate a questionnaire definition (YAML or JSON, see seeds/README.md) and load it by stable codes."

    def add_arguments(self, parser):
        parser.add_argument("path", help="seed file, e.g. seeds/questionnaire-2026.1.yaml")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    def handle(self, *args, path, dry_run, **options):
        try:
            definition = read_definition(path)
            report = questionnaire_upsert(definition=definition, dry_run=dry_run)
        except DefinitionError as exc:
            raise CommandError(f"{len(exc.issues)} problem(s) found, nothing was loaded:\n{exc}") from exc
        except QuestionnaireInUseError as exc:
            raise CommandError(str(exc)) from exc
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(prefix + report.summary())
