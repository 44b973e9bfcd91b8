#!/usr/bin/env bash
# Restore a jinan_assess backup (deploy/backup.sh) into a FRESH database, which this script creates (it
# refuses to touch an existing one), and its media archive into an empty folder; then compare the row
# counts, table by table (SELECT count(*) of every table in the public schema, exact), and the number of
# media files, and exit 1 on any difference.
#   usage: deploy/restore.sh --dump FILE.dump --target postgres://user@host:5432/NEW_DB \
#            [--media FILE-media.tar.gz --media-dir DIR] [--source postgres://…/ORIGINAL_DB]
# The counts are compared with --source, the database the dump came from (only meaningful while nothing
# writes to it, e.g. a copy or the backup check's own scratch source), or else with the rows the dump holds.
# The media files are compared with the archive's. Prints a table; exit status 0 only if all are equal.
set -euo pipefail

usage() {
  sed -n 's/^#   usage: //p; s/^#            /            /p' "$0" >&2
  exit 2
}

dump="" target="" media="" media_dir="" source=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dump) dump="${2:?}" ;;
    --target) target="${2:?}" ;;
    --media) media="${2:?}" ;;
    --media-dir) media_dir="${2:?}" ;;
    --source) source="${2:?}" ;;
    *) usage ;;
  esac
  shift 2
done
if [ -z "$dump" ] || [ -z "$target" ]; then usage; fi
[ -f "$dump" ] || { echo "no such dump: $dump" >&2; exit 2; }
if [ -n "$media" ] && [ -z "$media_dir" ]; then usage; fi

# The database name is the URL's last path segment (before any ?query); createdb connects to the server's
# maintenance database "postgres" with the same credentials and options.
base="${target%%\?*}"
query="${target#"$base"}"
db_name="${base##*/}"
maintenance="${base%/*}/postgres$query"
[ -n "$db_name" ] || { echo "--target names no database: $target" >&2; exit 2; }

exists="$(psql -X -At --dbname="$maintenance" -v name="$db_name" <<<"SELECT 1 FROM pg_database WHERE datname = :'name';")"
if [ -n "$exists" ]; then
  echo "database $db_name exists already: restore.sh only restores into a new database" >&2
  exit 1
fi
if [ -n "$media_dir" ] && [ -n "$(ls -A "$media_dir" 2>/dev/null)" ]; then
  echo "$media_dir is not empty: restore.sh only restores media into an empty folder" >&2
  exit 1
fi

createdb --maintenance-db="$maintenance" "$db_name"
echo "created database $db_name" >&2
# --no-owner/--no-privileges: the restoring user owns everything (the original role may not exist here).
# --exit-on-error: a restore that skipped something is not a restore. Two jobs: the indexes build in parallel.
pg_restore --dbname="$target" --no-owner --no-privileges --exit-on-error --jobs=2 "$dump"
echo "restored $dump" >&2

if [ -n "$media" ]; then
  mkdir -p "$media_dir"
  tar --extract --gzip --file="$media" --directory="$media_dir"
  echo "restored $media into $media_dir" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# "table<TAB>rows" for every table of the public schema, by name: exact counts (count(*)), not the planner's
# estimates in pg_class.reltuples.
count_rows() {
  psql -X -At -F $'\t' --dbname="$1" <<'SQL'
SELECT c.relname,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM public.%I', c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
WHERE s.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY 1;
SQL
}

# The rows the dump itself holds: one line per row between "COPY public.t (…) FROM stdin;" and "\.".
count_dump_rows() {
  pg_restore --data-only --file=- "$1" | awk '
    /^COPY public\./ { table = substr($2, 8); rows = 0; copying = 1; next }
    copying && /^\\\.$/ { print table "\t" rows; copying = 0; next }
    copying { rows++ }' | sort
}

if [ -n "$source" ]; then
  reference="source"
  count_rows "$source" >"$tmp/reference"
else
  reference="dump"
  count_dump_rows "$dump" >"$tmp/reference"
  # (An empty table has its COPY block too, with no rows: it is listed with 0.)
fi
count_rows "$target" >"$tmp/restored"
if [ -n "$media" ]; then
  # Regular files only (directories end in /), in the archive and in the restored folder.
  printf '(media files)\t%s\n' "$(tar --list --gzip --file="$media" | grep -vc '/$' || true)" >>"$tmp/reference"
  printf '(media files)\t%s\n' "$(find "$media_dir" -type f | wc -l)" >>"$tmp/restored"
fi

# One line per table of either side; a table missing on one side counts as a difference.
awk -F '\t' -v reference="$reference" '
  FNR == NR { ref[$1] = $2; names[$1] = 1; next }
  { got[$1] = $2; names[$1] = 1 }
  END {
    n = 0
    for (name in names) sorted[++n] = name
    for (i = 2; i <= n; i++) {  # insertion sort: awk has no portable sort
      key = sorted[i]
      for (j = i - 1; j > 0 && sorted[j] > key; j--) sorted[j + 1] = sorted[j]
      sorted[j + 1] = key
    }
    printf "%-40s %12s %12s  %s\n", "table", reference, "restored", ""
    differ = 0; rows = 0
    for (i = 1; i <= n; i++) {
      name = sorted[i]
      a = (name in ref) ? ref[name] : "missing"
      b = (name in got) ? got[name] : "missing"
      same = (a == b)
      if (!same) differ++
      if (same && name !~ /^\(/) rows += a
      printf "%-40s %12s %12s  %s\n", name, a, b, same ? "ok" : "DIFFERENT"
    }
    tables = ("(media files)" in names) ? n - 1 : n
    printf "%d tables%s compared, %d rows in equal tables, %d different\n", tables, \
      (tables < n) ? " and the media files" : "", rows, differ
    exit (differ > 0)
  }' "$tmp/reference" "$tmp/restored"
