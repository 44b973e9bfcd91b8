#!/usr/bin/env bash
# The backup procedure, tried end to end: back up DATABASE_URL and the media folder (deploy/backup.sh),
# restore both into a scratch database "<db>_restore_check" and a temporary folder (deploy/restore.sh),
# compare the row counts table by table with the source, and drop the scratch database. Exit status 1 on
# any difference. `make backup-check` runs it; CI runs it on a freshly seeded database (deploy/ci-check.sh).
# Compare only a database nothing writes to meanwhile (the counts would differ, rightly).
#   usage: DATABASE_URL=postgres://user@host:5432/jinan [JINAN_VAR_DIR=…] deploy/backup-check.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to check}"
base="${DATABASE_URL%%\?*}"
query="${DATABASE_URL#"$base"}"
scratch_name="${base##*/}_restore_check"
scratch="${base%/*}/$scratch_name$query"
maintenance="${base%/*}/postgres$query"

tmp="$(mktemp -d)"
cleanup() {
  PGOPTIONS="-c client_min_messages=warning" dropdb --maintenance-db="$maintenance" --if-exists "$scratch_name"
  rm -rf "$tmp"
}
trap cleanup EXIT
# A scratch database left by an interrupted run (restore.sh only restores into a new database).
PGOPTIONS="-c client_min_messages=warning" dropdb --maintenance-db="$maintenance" --if-exists "$scratch_name"

start=$(date +%s)
# (Through a file, not a process substitution, whose failure set -e would not see.)
"$here/backup.sh" "$tmp/backup" >"$tmp/files"
mapfile -t files <"$tmp/files"
echo "backup: ${files[*]} ($(du -ch "${files[@]}" | tail -n1 | cut -f1))"
"$here/restore.sh" --dump "${files[0]}" --media "${files[1]}" --media-dir "$tmp/media" \
  --target "$scratch" --source "$DATABASE_URL"
echo "backup and restore check passed in $(($(date +%s) - start)) s"
