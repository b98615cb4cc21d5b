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
# The tests use database "sohoa_test"; create it if absent (trust auth or the postgres superuser).
if ! psql -h 127.0.0.1 -U postgres -lqt 2>/dev/null | cut -d'|' -f1 | grep -qw sohoa_test; then
  createdb -h 127.0.0.1 -U postgres sohoa_test 2>/dev/null \
    || su postgres -c "createdb sohoa_test" 2>/dev/null || true
fi
