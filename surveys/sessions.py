"""The session engine (SESSION_ENGINE): Django's database sessions, read with one plain SELECT.

Every request of a logged-in user loads its session; the ORM's query costs more to build than to run, and an
autosave, the request a firm sends most, has little else to do. Same table, same format, same expiry rule
as django.contrib.sessions.backends.db, which writes and deletes the sessions as before.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def load(self):
        if not self.session_key:
            return {}
        connection = connections[router.db_for_read(self.model)]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('session_data')} FROM {quote(self.model._meta.db_table)} "
                f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django's: an unknown or expired key is dropped, a new one made on save
            return {}
        return self.decode(row[0])
