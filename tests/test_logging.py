"""One log line per event (settings.LOGGING): a 403/404 with DEBUG on, the autoreloader's start line, a login
and a failed login each produce exactly one record, written by exactly one handler."""

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def writing_handlers(record: logging.LogRecord) -> list[logging.Handler]:
    """The configured handlers that would write ``record`` (the walk of ``Logger.callHandlers``), without the
    handlers pytest adds to capture logs."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    handlers = []
    while logger is not None:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue
            if record.levelno >= handler.level and handler.filter(record):
                handlers.append(handler)
        if not logger.propagate:
            break
        logger = logger.parent
    return handlers


def written_lines(caplog) -> list[str]:
    """Each captured record once per handler that writes it: what the console shows."""
    return [record.getMessage() for record in caplog.records for _handler in writing_handlers(record)]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    # DEBUG pages are rendered with the real hosts check; the test client's host is "testserver".
    settings.ALLOWED_HOSTS = ["testserver"]


def test_a_404_with_debug_on_is_one_line(client, debug_on, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/no-such-page/").status_code == 404
    assert written_lines(caplog) == ["Not Found: /no-such-page/"]


def test_a_403_and_its_traceback_with_debug_on_are_written_once(owner_client, debug_on, caplog):
    caplog.set_level(logging.INFO)
    assert owner_client.get(reverse("manage:dashboard")).status_code == 403
    assert written_lines(caplog) == ["Forbidden (Permission denied): /manage/"]
    assert caplog.records[0].exc_info is not None  # the traceback comes with it, in the same one line/record


def test_the_autoreloader_start_line_is_written_once(debug_on):
    logger = logging.getLogger("django.utils.autoreload")
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, "Watching for file changes with %s", ("X",), None
    )
    assert logger.isEnabledFor(logging.INFO)
    assert len(writing_handlers(record)) == 1


def test_a_login_is_one_line(client, owner, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(reverse("login"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302
    [line] = written_lines(caplog)
    assert line.startswith("audit login ") and repr(owner.username) in line


def test_a_failed_login_is_one_line(client, owner, caplog):
    caplog.set_level(logging.DEBUG)
    client.post(reverse("login"), {"username": owner.username, "password": "wrong"})
    [line] = written_lines(caplog)
    assert line.startswith("audit login_failed ") and repr(owner.username) in line


def test_the_development_servers_request_lines_keep_their_own_timestamped_handler():
    from django.utils.log import ServerFormatter

    logger = logging.getLogger("django.server")
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, '"GET / HTTP/1.1" 200 1', (), None)
    handlers = writing_handlers(record)
    assert len(handlers) == 1 and isinstance(handlers[0].formatter, ServerFormatter)
