"""The login backend: Django's ModelBackend, reading the user's firm membership (and its firm) with the user.

Every request of a logged-in user reads the user (django.contrib.auth's middleware) and, on every firm page,
the membership (surveys.selectors.membership_for_user): one query instead of two on the requests a firm
sends most (a questionnaire page, each autosave). The membership is as current as the user: both are read
afresh for each request.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .selectors.rows import user_with_membership


class MemberModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = user_with_membership(user_id)  # the SQL is written once (selectors/rows.py)
        return user if user is not None and self.user_can_authenticate(user) else None
