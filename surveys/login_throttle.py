"""Failed-login throttling: django-axes' database handler with a second, per-address limit.

Settings (jinan_assess/settings.py) make axes count failures per account *and* address together
(``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``): 5 failures lock that account from that address
only. axes counts every parameter group against the same limit, so it cannot also say "an address that fails
against many accounts is refused"; this handler adds that: once failed logins from one address name
``JINAN_LOGIN_ADDRESS_ACCOUNT_LIMIT`` different accounts within the cool-off time, every login from that
address is refused until the cool-off has passed since the last of them. Both refusals are the ordinary
failed-login page (``surveys.auth_views.locked_out``).

Administrators lift a lock with ``python manage.py axes_reset_username USER`` (the account, from every
address), ``axes_reset_ip ADDRESS`` (an address), or by deleting the rows under "Access attempts" in the
Django admin.
"""

from __future__ import annotations

import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings

logger = logging.getLogger("jinan.auth")


def address_accounts_failed(request) -> int:
    """How many different accounts failed logins from the request's address named within the cool-off time."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    recent = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=get_cool_off_threshold(request))
    return recent.values("username").distinct().count()


class LoginThrottle(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures of this account from this address; the whole limit once the address itself is refused."""
        failures = super().get_failures(request, credentials)
        if address_accounts_failed(request) >= settings.JINAN_LOGIN_ADDRESS_ACCOUNT_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        allowed = super().is_allowed(request, credentials)
        request.jinan_login_refused = not allowed  # already locked before this attempt
        return allowed

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        # One line when a lock begins (not for every refused attempt after it); each failure itself is the
        # audit log's line.
        if request is not None and request.axes_locked_out and not getattr(request, "jinan_login_refused", False):
            address_wide = address_accounts_failed(request) >= settings.JINAN_LOGIN_ADDRESS_ACCOUNT_LIMIT
            logger.warning(
                "login locked scope=%s user=%r address=%s",
                "address" if address_wide else "account+address",
                get_client_username(request, credentials),
                request.axes_ip_address,
            )
