#!/usr/bin/env bash
# Finds a Redis that answers PING, or starts a throwaway redis-server (no
# persistence) on a free loopback port. Prints "HOST PORT" on stdout.
#   REDIS_HOST/REDIS_PORT (default 127.0.0.1:6379) are tried first.
#   The throwaway server keeps running after this script (its pid and port in
#   ${AUTHD_REDIS_DIR:-/tmp/authd-redis}) so that later commands can use it.
# Fails loudly when neither works: the Redis tests are never skipped.
set -euo pipefail

host=${REDIS_HOST:-127.0.0.1}
port=${REDIS_PORT:-6379}
# A machine without Redis gets Debian's package when this runs as root.
if ! command -v redis-cli >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-redis: installing Debian's redis-server" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
  # The package starts a service on 6379 where it can; this script starts its own otherwise.
fi
command -v redis-cli >/dev/null || { echo "ensure-redis: redis-cli not found (Debian package redis-server)" >&2; exit 1; }
answers() { [ "$(timeout 3 redis-cli -h "$1" -p "$2" ping 2>/dev/null)" = PONG ]; }

if answers "$host" "$port"; then echo "$host $port"; exit 0; fi

dir=${AUTHD_REDIS_DIR:-/tmp/authd-redis}
if [ -f "$dir/port" ] && answers 127.0.0.1 "$(cat "$dir/port")"; then echo "127.0.0.1 $(cat "$dir/port")"; exit 0; fi

command -v redis-server >/dev/null || { echo "ensure-redis: nothing answers on $host:$port and redis-server is not installed (Debian package redis-server)" >&2; exit 1; }
p=""
for c in $(seq 56379 56479); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$c") 2>/dev/null; then p=$c; break; fi
done
[ -n "$p" ] || { echo "ensure-redis: no free port in 56379-56479" >&2; exit 1; }
mkdir -p "$dir"
redis-server --bind 127.0.0.1 --port "$p" --save "" --appendonly no --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >&2
for _ in $(seq 50); do
  if answers 127.0.0.1 "$p"; then echo "$p" > "$dir/port"; echo "127.0.0.1 $p"; exit 0; fi
  sleep 0.1
done
cat "$dir/redis.log" >&2
echo "ensure-redis: redis-server on port $p did not answer" >&2
exit 1
