# jinan_assess — every developer and CI entry point. `make run` and `make test` work on a fresh
# Debian/Ubuntu machine with Python 3.11: they create .venv, install what is missing, and go.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
SEED := seeds/questionnaire-2026.1.yaml
DEMO_FIRMS ?= 300
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages the app and its tests use: gettext (compilemessages), a CJK TrueType font for PDFs,
# poppler (pdffonts/pdftoppm in the report tests).
SYSTEM_PACKAGES := gettext fonts-wqy-microhei poppler-utils

# Local development runs with DEBUG on and a throwaway key; production sets its own (README).
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format bench system-deps messages migrate seed loadtest clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: please install:$$missing (PDFs fall back to a non-embedded font)"; fi; \
	fi

messages: $(VENV)/.runtime
	$(MANAGE) compilemessages --ignore=.venv --ignore=var --ignore=node_modules --verbosity 0

migrate: $(VENV)/.runtime
	mkdir -p var
	$(MANAGE) migrate --noinput --verbosity 0
	$(MANAGE) load_questionnaire $(SEED)
	$(MANAGE) setup_roles >/dev/null

# seed_demo's progress and logins go to var/seed_demo.log, so that the logins can be printed right under
# the URL, the last thing before the server's own start-up lines.
run: system-deps messages migrate
	@echo "seeding demo data (first run only; log in var/seed_demo.log)"
	@$(MANAGE) seed_demo --firms $(DEMO_FIRMS) --if-empty >var/seed_demo.json 2>var/seed_demo.log \
	  || { cat var/seed_demo.log; exit 1; }
	@echo "demo data: $$(cat var/seed_demo.json)"
	@echo ""
	@echo "  jinan_assess is running at http://$(HOST):$(PORT)/"
	@sed -n '/^Demo logins/,$$p' var/seed_demo.log | sed 's/^/  /'
	@echo "  Sign up as a new firm at http://$(HOST):$(PORT)/signup/"
	@echo ""
	@$(MANAGE) runserver $(HOST):$(PORT)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: system-deps $(VENV)/.dev messages lint
	@# axe-core for the accessibility tests (tests/e2e); without npm those tests say what is missing.
	@test -f node_modules/axe-core/axe.min.js || ! command -v npm >/dev/null || npm ci --no-audit --no-fund --silent
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-not-secret $(MANAGE) makemigrations --check --dry-run --verbosity 1
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-not-secret $(VENV)/bin/pytest $(PYTEST_ARGS)

# The benchmarks run on PostgreSQL with 60,000 demo firms (seeded once, about two minutes, then reused).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jinan_bench
BENCH_FIRMS ?= 60000
BENCH_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench-only-not-secret DATABASE_URL=$(BENCH_DATABASE_URL)

bench: $(VENV)/.dev messages
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start
	@psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='jinan_bench'" | grep -q 1 \
	  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE jinan_bench"
	$(BENCH_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(BENCH_ENV) $(MANAGE) load_questionnaire $(SEED)
	$(BENCH_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	@# (not `time`: /bin/sh has no such keyword, and /usr/bin/time cannot take VAR=value words)
	@start=$$(date +%s); $(BENCH_ENV) $(MANAGE) seed_demo --firms $(BENCH_FIRMS) --if-empty \
	  && echo "seed_demo took $$(( $$(date +%s) - start )) s"
	$(BENCH_ENV) $(MANAGE) bench $(BENCH_ARGS)

# make loadtest (not part of make test): 50 firms autosave and submit for 60 s through gunicorn on 127.0.0.1
# against PostgreSQL, then the database is checked against what they sent (surveys/management/commands/loadtest.py).
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jinan_load
LOAD_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=load-only-not-secret DATABASE_URL=$(LOAD_DATABASE_URL)

loadtest: $(VENV)/.runtime messages
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start
	$(LOAD_ENV) $(MANAGE) loadtest $(LOAD_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
