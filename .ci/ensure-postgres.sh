#!/usr/bin/env bash
# Finds a Postgres that accepts user "postgres" without a password, or starts a
# throwaway cluster on a free loopback port. Prints "HOST PORT" on stdout.
#   PGHOST/PGPORT (default 127.0.0.1:5432) are tried first.
#   The throwaway cluster lives in ${AUTHD_PG_DIR:-/tmp/authd-pg}; it keeps
#   running after this script so that later commands can use it.
#   With --createdb NAME, the database NAME is created if it does not exist.
set -euo pipefail

createdb_name=""
if [ "${1:-}" = "--createdb" ]; then createdb_name=${2:?--createdb needs a name}; fi

host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[ -n "$bindir" ] || bindir=$(dirname "$(command -v initdb 2>/dev/null || echo /usr/bin/initdb)")
isready() { "$bindir/pg_isready" -q -h "$1" -p "$2" -U postgres -d postgres -t 2; }
can_login() { PGCONNECT_TIMEOUT=3 "$bindir/psql" -h "$1" -p "$2" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

done_with() {
  if [ -n "$createdb_name" ] && ! "$bindir/psql" -h "$1" -p "$2" -U postgres -d postgres -Atqc \
      "select 1 from pg_database where datname = '$createdb_name'" | grep -q 1; then
    "$bindir/createdb" -h "$1" -p "$2" -U postgres "$createdb_name"
  fi
  echo "$1 $2"; exit 0
}

if isready "$host" "$port" && can_login "$host" "$port"; then done_with "$host" "$port"; fi

dir=${AUTHD_PG_DIR:-/tmp/authd-pg}
portfile="$dir/port"
if [ -f "$portfile" ]; then
  p=$(cat "$portfile")
  if isready 127.0.0.1 "$p" && can_login 127.0.0.1 "$p"; then done_with 127.0.0.1 "$p"; fi
fi

# Postgres refuses to run as root: run the cluster as the postgres user.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "ensure-postgres: no 'postgres' OS user to run the cluster as" >&2; exit 1; }
  as_pg=(runuser -u postgres --)
fi

free_port() {
  for p in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "ensure-postgres: no free port in 55432-55532" >&2; exit 1
}

mkdir -p "$dir"
[ "${#as_pg[@]}" -eq 0 ] || chown postgres: "$dir"
if [ ! -f "$dir/data/PG_VERSION" ]; then
  "${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
fi
p=$(free_port)
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $p -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "$p" > "$portfile"
done_with 127.0.0.1 "$p"
