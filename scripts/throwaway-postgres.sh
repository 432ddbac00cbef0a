#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: a fresh cluster in a temp folder, on a free
# loopback port, stopped by its data folder when the command ends (also on failure or Ctrl-C).
#   bash scripts/throwaway-postgres.sh <command…>
# The command gets DESKFORGE_TEST_DATABASE_URL (the server's superuser, database `postgres`).
# If DESKFORGE_TEST_DATABASE_URL is already set, no server is started: the command uses that one.
set -euo pipefail

if [ -n "${DESKFORGE_TEST_DATABASE_URL:-}" ]; then
  exec "$@"
fi

bin=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then bin="$(pg_config --bindir)"; fi
if [ -z "$bin" ]; then
  for candidate in /usr/lib/postgresql/*/bin; do [ -x "$candidate/initdb" ] && bin="$candidate"; done
fi
if [ -z "$bin" ]; then
  echo "PostgreSQL's server binaries (initdb, pg_ctl) were not found. Install them (Debian: apt-get install -y postgresql)," >&2
  echo "or set DESKFORGE_TEST_DATABASE_URL=postgres://user@127.0.0.1:5432/postgres to use a server you run." >&2
  exit 1
fi

folder="$(mktemp -d /tmp/deskforge-pg.XXXXXX)"
as_owner=()
if [ "$(id -u)" = 0 ]; then
  # The server refuses to run as root: the cluster belongs to the postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$folder"
  as_owner=(runuser -u postgres --)
fi
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

stop() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$folder"
}
trap stop EXIT
trap 'exit 130' INT TERM

"${as_owner[@]}" "$bin/initdb" -D "$folder/data" -A trust -U postgres >"$folder/initdb.log" 2>&1 || { cat "$folder/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -w -l "$folder/server.log" \
  -o "-k $folder -c listen_addresses=127.0.0.1 -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" start >/dev/null \
  || { cat "$folder/server.log" >&2; exit 1; }

export DESKFORGE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export DESKFORGE_TEST_POSTGRES_DATA="$folder/data"
export DESKFORGE_TEST_POSTGRES_BIN="$bin"
echo "throwaway PostgreSQL on 127.0.0.1:$port (data in $folder/data)" >&2
"$@"
