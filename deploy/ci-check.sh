#!/usr/bin/env bash
# CI's deployment checks (`make deploy-check`, run by .ci/run after `make test`):
#  1. `nginx -t` accepts the shipped site (deploy/nginx/check.sh);
#  2. backup and restore with equal row counts (deploy/backup-check.sh), on a scratch database
#     "<db>_backup_src" on the server of DATABASE_URL, freshly migrated and seeded with demo firms so that the
#     tables the counts compare hold rows, and a media folder with a few files.
# Both scratch databases are dropped at the end.
#   usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test deploy/ci-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# 50 firms: every table the app writes holds rows, in a few seconds.
firms="${JINAN_BACKUP_CHECK_FIRMS:-50}"
python="${PYTHON:-.venv/bin/python}"

echo "--- nginx -t on deploy/nginx/jinan_assess.conf"
bash deploy/nginx/check.sh

echo "--- backup and restore"
: "${DATABASE_URL:?DATABASE_URL must point to the CI PostgreSQL database}"
base="${DATABASE_URL%%\?*}"
query="${DATABASE_URL#"$base"}"
source_name="${base##*/}_backup_src"
maintenance="${base%/*}/postgres$query"
tmp="$(mktemp -d)"
cleanup() {
  PGOPTIONS="-c client_min_messages=warning" dropdb --maintenance-db="$maintenance" --if-exists "$source_name"
  rm -rf "$tmp"
}
trap cleanup EXIT
PGOPTIONS="-c client_min_messages=warning" dropdb --maintenance-db="$maintenance" --if-exists "$source_name"
createdb --maintenance-db="$maintenance" "$source_name"

export DATABASE_URL="${base%/*}/$source_name$query"
export JINAN_VAR_DIR="$tmp/var"
export DJANGO_DEBUG=0 DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-backup-check-only-not-secret}"
start=$(date +%s)
"$python" manage.py migrate --noinput --verbosity 0
for seed in seeds/questionnaire-*.yaml; do "$python" manage.py load_questionnaire "$seed" >/dev/null; done
"$python" manage.py seed_demo --firms "$firms" >/dev/null 2>&1
# Files as the jobs leave them under the media folder (names with spaces and Chinese included).
mkdir -p "$JINAN_VAR_DIR/media/jobs/1" "$JINAN_VAR_DIR/media/jobs/2"
head -c 100000 /dev/urandom >"$JINAN_VAR_DIR/media/jobs/1/reports.zip"
echo "统一社会信用代码,企业名称" >"$JINAN_VAR_DIR/media/jobs/2/答卷 导出.csv"
echo "source database $source_name seeded with $firms firms in $(($(date +%s) - start)) s"

bash deploy/backup-check.sh
