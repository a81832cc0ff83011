#!/usr/bin/env bash
# The one-shot `ksql-init` service of docker-compose.yml: applies ksql/ with ksqlDB's own migrations tool,
# `ksql-migrations`, which ships in the cp-ksqldb-server image the service runs. The tool applies the files
# V<six digits>__<name>.sql in version order, one statement after the other, and records each applied version
# with its checksum in a ksqlDB stream and table of its own (MIGRATION_EVENTS, MIGRATION_SCHEMA_VERSIONS).
#
# It runs on every `docker compose up`, so it must be idempotent, and the tool's two commands differ there:
#   - `initialize-metadata` creates the tool's stream and table with plain CREATE statements: on a second call
#     the first CREATE fails and the command exits 1. So it runs only when `info` fails, which first checks that
#     both objects exist (BaseCommand.validateMetadataInitialized in the tool's source).
#   - `apply --all` first checks the checksums of the versions already applied (a changed file fails it), then
#     applies the versions above the current one; with none left it logs "No eligible migrations found." and
#     exits 0.
# Settings: KSQL_MIGRATIONS_CONFIG, the tool's properties file (default: the one mounted from docker/ksql-init/).
set -euo pipefail

config="${KSQL_MIGRATIONS_CONFIG:-/opt/telemetry/ksql-init/ksql-migrations.properties}"

migrations() {
  ksql-migrations --config-file "$config" "$@"
}

if migrations info >/dev/null 2>&1; then
  echo "ksql-init: the migrations metadata exists"
else
  echo "ksql-init: creating the migrations metadata"
  # A failure is fine when the metadata exists after all (an earlier run created it and stopped before `apply`).
  if ! migrations initialize-metadata && ! migrations info >/dev/null 2>&1; then
    echo "ksql-init: initialize-metadata failed and the migrations metadata does not exist (see the log above)" >&2
    exit 1
  fi
fi

echo "ksql-init: applying ksql/"
if ! migrations apply --all; then
  echo "ksql-init: apply failed (see the log above); 'ksql-migrations info' names the version in state ERROR" >&2
  exit 1
fi

# The resulting state, for `docker compose logs ksql-init`.
migrations info
