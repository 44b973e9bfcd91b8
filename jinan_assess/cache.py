"""The shared cache when ``REDIS_URL`` is set (jinan_assess/settings.py, README "Deployment").

Everything in the cache can be computed again (dashboard figures, coverage), so a Redis that is down or
unreachable must cost speed, never a page: every operation that cannot reach Redis behaves as a miss (a read
finds nothing, a write is dropped), the failure is logged once, and for the next few seconds this process does
not try Redis at all, so that an unreachable server does not add its timeout to every cache call of every
request.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("jinan.cache")

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
# After a failure, Redis is left alone this long (per process) before the next attempt.
RETRY_AFTER_SECONDS = 10.0


class TolerantRedisCache(RedisCache):
    """Django's RedisCache, with an unreachable Redis treated as an empty cache."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        if self._available():
            logger.warning(
                "cache unavailable, serving without it for %.0f s: %s", RETRY_AFTER_SECONDS, error.__class__.__name__
            )
        self._down_until = time.monotonic() + RETRY_AFTER_SECONDS

    def _try(self, operation, fallback, *args, **kwargs):
        if not self._available():
            return fallback
        try:
            return operation(*args, **kwargs)
        except UNAVAILABLE as error:
            self._failed(error)
            return fallback

    def get(self, key, default=None, version=None):
        return self._try(super().get, default, key, default, version=version)

    def get_many(self, keys, version=None):
        return self._try(super().get_many, {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._try(super().has_key, False, key, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._try(super().set, None, key, value, timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._try(super().add, False, key, value, timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._try(super().set_many, list(data), data, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._try(super().touch, False, key, timeout, version=version)

    def delete(self, key, version=None):
        return self._try(super().delete, False, key, version=version)

    def delete_many(self, keys, version=None):
        return self._try(super().delete_many, None, keys, version=version)

    def clear(self):
        return self._try(super().clear, False)
