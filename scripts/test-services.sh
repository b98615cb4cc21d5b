#!/usr/bin/env bash
# Start the servers the integration tests talk to, if they are not already running.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! up 5432; then
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
fi
if ! up 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi
if ! up 5672; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1 || true
fi
for _ in $(seq 1 60); do
  up 5432 && up 6379 && up 5672 && break
  sleep 1
done
up 5672 || { echo "RabbitMQ is not reachable on 127.0.0.1:5672" >&2; exit 1; }
up 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
up 6379 || { echo "Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
# The tests connect as role sohoa_test (password sohoa_test) to database sohoa_test over TCP:
# a stock Debian server asks for a password on 127.0.0.1, so a password role works there and
# on a trust-auth server alike. Created (or fixed) as the postgres superuser: over TCP when the
# server trusts it, else over the socket as the postgres system user (peer authentication).
admin_sql() {
  if psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
  else
    sudo -u postgres psql -d postgres -v ON_ERROR_STOP=1 -Atq "$@"
  fi
}
if ! PGPASSWORD=sohoa_test psql -h 127.0.0.1 -U sohoa_test -d sohoa_test -Atqc 'SELECT 1' >/dev/null 2>&1; then
  echo "preparing the PostgreSQL test role and database"
  admin_sql -c "DO \$\$BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sohoa_test') THEN
      CREATE ROLE sohoa_test LOGIN PASSWORD 'sohoa_test';
    ELSE
      ALTER ROLE sohoa_test LOGIN PASSWORD 'sohoa_test';
    END IF;
  END\$\$;"
  if [ "$(admin_sql -c "SELECT 1 FROM pg_database WHERE datname = 'sohoa_test'")" != "1" ]; then
    admin_sql -c "CREATE DATABASE sohoa_test OWNER sohoa_test"
  fi
  admin_sql -c "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE sohoa_test TO sohoa_test"
  PGPASSWORD=sohoa_test psql -h 127.0.0.1 -U sohoa_test -d sohoa_test -Atqc 'SELECT 1' >/dev/null \
    || { echo "cannot connect to PostgreSQL as sohoa_test on 127.0.0.1" >&2; exit 1; }
fi
