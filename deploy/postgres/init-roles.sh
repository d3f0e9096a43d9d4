#!/bin/sh
# compose: the postgres image runs this once, on an empty data directory.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v migrate_password="$P06_MIGRATE_PASSWORD" -v app_password="$P06_APP_PASSWORD" \
  -f /p06/roles.sql
