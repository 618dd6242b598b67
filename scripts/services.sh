#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer, and that the database exists.
#   scripts/services.sh DATABASE_URL REDIS_URL          start what is down (where we can), create the db
#   scripts/services.sh --check DATABASE_URL REDIS_URL  only say (exit code) whether both answer
set -u
check_only=0
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
database_url=$1
redis_url=$2
python=${PYTHON:-.venv/bin/python}

pg_ok() {
  "$python" - "$database_url" <<'PY' >/dev/null 2>&1
import sys, psycopg
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username, password=u.password,
                dbname="postgres", connect_timeout=3).close()
PY
}
redis_ok() {
  "$python" - "$redis_url" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()
PY
}

if [ $check_only = 1 ]; then
  pg_ok && redis_ok
  exit $?
fi

if ! pg_ok && command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  sleep 2
fi
if ! redis_ok && command -v redis-server >/dev/null 2>&1; then
  echo "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  sleep 1
fi
pg_ok || { echo "PostgreSQL is not reachable at $database_url" >&2; exit 1; }
redis_ok || { echo "Redis is not reachable at $redis_url" >&2; exit 1; }

"$python" - "$database_url" <<'PY'
import sys, psycopg
from urllib.parse import urlsplit
u = urlsplit(sys.argv[1])
name = u.path.lstrip("/")
with psycopg.connect(host=u.hostname, port=u.port or 5432, user=u.username,
                     password=u.password, dbname="postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
        print(f"Created database {name}")
PY
