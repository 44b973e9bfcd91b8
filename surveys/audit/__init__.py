"""Audit trail: who viewed, downloaded or exported which firm's data, and every login attempt.

Append-only from the application (rows cannot be changed or deleted through the ORM, except by the
retention purge), readable by city administrators, kept at least JINAN_AUDIT_RETENTION_DAYS days.
"""
