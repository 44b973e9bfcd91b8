"""Create the administrator groups, and optionally make users city or district administrators."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from surveys import services
from surveys.choices import DISTRICTS
from surveys.scopes import ROLE_CITY, ROLE_DISTRICT, ROLE_GROUPS
from surveys.services import ServiceError


class Command(BaseCommand):
    help = (
        "Create or repair the administrator groups (市级管理员, 区县管理员) and their permissions; "
        "with --city USER or --district USER --districts CODE,CODE grant a role (--revoke USER removes it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--city", metavar="USERNAME", action="append", default=[], help="make a city administrator")
        parser.add_argument(
            "--district", metavar="USERNAME", action="append", default=[], help="make a district administrator"
        )
        parser.add_argument(
            "--districts", metavar="CODES", default="", help="comma-separated GB/T 2260 codes, e.g. 370112,370102"
        )
        parser.add_argument("--revoke", metavar="USERNAME", action="append", default=[], help="remove the role")

    def handle(self, *args, city, district, districts, revoke, **options):
        groups = services.administrator_roles_ensure()
        for role, group in groups.items():
            names = ", ".join(sorted(p.codename for p in group.permissions.all()))
            self.stdout.write(f"group {ROLE_GROUPS[role]} ({role}): {names}")
        codes = [code.strip() for code in districts.split(",") if code.strip()]
        known = {code for code, _label in DISTRICTS}
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise CommandError(f"unknown district codes: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if district and not codes:
            raise CommandError("--district needs --districts")
        User = get_user_model()

        def user(username):
            try:
                return User.objects.get(username=username)
            except User.DoesNotExist as exc:
                raise CommandError(f"no user {username!r}") from exc

        try:
            for username in city:
                services.administrator_grant(user=user(username), role=ROLE_CITY)
                self.stdout.write(f"{username}: city administrator")
            for username in district:
                services.administrator_grant(user=user(username), role=ROLE_DISTRICT, districts=codes)
                self.stdout.write(f"{username}: district administrator for {', '.join(codes)}")
        except ServiceError as exc:
            raise CommandError(str(exc.message)) from exc
        for username in revoke:
            services.administrator_revoke(user=user(username))
            self.stdout.write(f"{username}: no administrator role")
