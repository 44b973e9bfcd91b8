#!/usr/bin/env bash
# Back up jinan_assess: the PostgreSQL database (pg_dump, custom format: compressed, restorable table by
# table and in parallel with pg_restore) and the media folder (job results, as a tar.gz), with date-stamped
# names, into TARGET_DIR. The database is dumped first: every file the dumped rows point to existed before
# the dump began, so it is in the tar too (a file newer than the dump is harmless).
#   usage: DATABASE_URL=postgres://user@host:5432/jinan [JINAN_VAR_DIR=/var/lib/jinan_assess] \
#          deploy/backup.sh TARGET_DIR
# Prints the two files it wrote, one per line: NAME.dump and NAME-media.tar.gz (README "Backup and restore").
# Restore with deploy/restore.sh.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: DATABASE_URL=postgres://… $0 TARGET_DIR" >&2
  exit 2
fi
target="$1"
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *)
    echo "DATABASE_URL is not a PostgreSQL URL (a SQLite file is backed up by copying it)" >&2
    exit 2
    ;;
esac
# As in the settings: JINAN_VAR_DIR, by default var/ beside manage.py.
var_dir="${JINAN_VAR_DIR:-$(cd "$(dirname "$0")/.." && pwd)/var}"
media_dir="$var_dir/media"

# The dump holds password hashes and every firm's answers: readable by the owner only.
umask 077
mkdir -p "$target"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="$target/jinan-$stamp"
if [ -e "$name.dump" ]; then
  echo "$name.dump exists already" >&2
  exit 1
fi

# Written under a temporary name and renamed when complete: an interrupted backup never looks like a
# finished one. (The trap removes what is left of it.)
trap 'rm -f "$name.dump.partial" "$name-media.tar.gz.partial"' EXIT

# pg_dump takes the URL as its connection string; the dump is one consistent snapshot of the database.
pg_dump --format=custom --dbname="$DATABASE_URL" --file="$name.dump.partial"
mv "$name.dump.partial" "$name.dump"

# Paths in the archive are relative to the media folder. A site without media yet gets an empty archive, so
# that every backup has both files.
if [ -d "$media_dir" ]; then
  tar --create --gzip --file="$name-media.tar.gz.partial" --directory="$media_dir" .
else
  tar --create --gzip --file="$name-media.tar.gz.partial" --files-from=/dev/null
fi
mv "$name-media.tar.gz.partial" "$name-media.tar.gz"

echo "$name.dump"
echo "$name-media.tar.gz"
