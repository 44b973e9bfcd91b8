#!/usr/bin/env bash
# `nginx -t` on the shipped site (deploy/nginx/jinan_assess.conf), unmodified, as Debian's nginx.conf would
# include it, without touching /etc/nginx: a throwaway wrapper nginx.conf and a self-signed certificate in a
# temporary folder. The site's certificate paths are relative, so nginx reads them from the wrapper's folder.
# Used by CI (.ci/run via deploy/ci-check.sh) and tests/test_deploy.py. Runs as any user.
#   usage: deploy/nginx/check.sh [SITE_CONF]
set -euo pipefail

site="$(realpath "${1:-$(dirname "$0")/jinan_assess.conf}")"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
if [ ! -x "$nginx_bin" ]; then
  echo "nginx is not installed (Debian: apt-get install nginx)" >&2
  exit 127
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tls"

# A placeholder certificate only so that -t can load one; it is never served.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=assess.example.cn" \
  -keyout "$tmp/tls/jinan_assess.key" -out "$tmp/tls/jinan_assess.crt" 2>/dev/null

# The http-level directives of Debian's /etc/nginx/nginx.conf are repeated here, so that a directive the site
# would duplicate fails here as it would there. Logs, pid and temporary folders go to the temporary folder,
# so that the check writes nothing outside it.
mime_types=/etc/nginx/mime.types
[ -f "$mime_types" ] || mime_types="$tmp/mime.types"
[ -f "$mime_types" ] || echo 'types { text/html html; }' >"$mime_types"

# nginx -t binds the site's ports (80, 443; a port already in use is fine). Without root, binding them is
# refused: then nginx runs as root of a user and network namespace of its own, where it may (unshare -rn;
# Debian allows unprivileged user namespaces).
run=("$nginx_bin")
user_line=""
if [ "$(id -u)" != 0 ]; then
  if unshare -rn true 2>/dev/null; then
    run=(unshare -rn "$nginx_bin")
    # Inside, only root exists: the temporary folders are given to it rather than to nginx's default user.
    user_line="user root;"
  else
    echo "note: not root and no user namespaces: binding ports 80 and 443 may be refused" >&2
  fi
fi

cat >"$tmp/nginx.conf" <<CONF
$user_line
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 768; }
http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include $mime_types;
    default_type application/octet-stream;
    ssl_prefer_server_ciphers on;
    access_log $tmp/access.log;
    gzip on;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $site;
}
CONF

# -e: the log nginx writes before it has read the configuration (default /var/log/nginx, root's).
# Warnings count as failures: they mean a directive that a later nginx will reject or ignore.
if ! output="$("${run[@]}" -t -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" 2>&1)"; then
  echo "$output" >&2
  exit 1
fi
echo "$output"
if grep -q '\[warn\]' <<<"$output"; then
  echo "nginx -t warned about $site" >&2
  exit 1
fi
