#!/usr/bin/env bash
# Starts a PostgreSQL cluster on loopback for the Postgres suite, installing Debian's package when
# it is missing. Idempotent. Prints the connection URL as its last line.
set -euo pipefail

PORT="${KEYWARD_TEST_PG_PORT:-55432}"
CLUSTER=keyward-test
ROLE=keyward
PASSWORD=keyward

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian packages..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$CLUSTER"; then
  pg_createcluster "$VERSION" "$CLUSTER" --port "$PORT" -- --auth-local=peer --auth-host=scram-sha-256 >&2
  # Loopback only; the suite is the only client.
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$VERSION/$CLUSTER/postgresql.conf"
  # Test speed over durability for throwaway databases (the SIGKILL test runs against the server, not Postgres).
  printf "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" >> "/etc/postgresql/$VERSION/$CLUSTER/postgresql.conf"
fi
if ! pg_lsclusters -h | awk -v c="$CLUSTER" '$2 == c {print $4}' | grep -qx online; then
  pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
for _ in $(seq 1 50); do
  if su postgres -c "psql -p $PORT -Atqc 'select 1'" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
su postgres -c "psql -p $PORT -Atqc \"do \\\$\\\$ begin if not exists (select from pg_roles where rolname = '$ROLE') then create role $ROLE login superuser password '$PASSWORD'; end if; end \\\$\\\$\"" >&2
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/postgres"
