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
#   - Right after `initialize-metadata`, the tool's table may not answer pull queries yet (its query is still
#     starting), and `apply` and `info` read it with one. The tool's own integration test waits for that
#     (MigrationsTest.waitForMetadataTableReady, citing confluentinc/ksql#6249), so this script does too: it polls
#     `info` at a fixed interval, up to KSQL_INIT_WAIT_S. A fixed poll, not a backoff: this image has no Node.js, so
#     the project's one backoff (src/core/backoff.ts) is out of reach, and each poll starts a JVM anyway.
# Settings: KSQL_MIGRATIONS_CONFIG, the tool's properties file (default: the one mounted from docker/ksql-init/);
# KSQL_INIT_WAIT_S (default 120) and KSQL_INIT_POLL_S (default 2) for that wait.
set -euo pipefail

config="${KSQL_MIGRATIONS_CONFIG:-/opt/telemetry/ksql-init/ksql-migrations.properties}"
wait_s="${KSQL_INIT_WAIT_S:-120}"
poll_s="${KSQL_INIT_POLL_S:-2}"

migrations() {
  ksql-migrations --config-file "$config" "$@"
}

if migrations info >/dev/null 2>&1; then
  echo "ksql-init: the migrations metadata exists"
else
  echo "ksql-init: creating the migrations metadata"
  # A failure is fine when the metadata exists after all: an earlier run created it (and stopped before `apply`),
  # or it exists but its table is not queryable yet (a restarted ksqlDB restoring its state).
  migrations initialize-metadata || echo "ksql-init: initialize-metadata failed; waiting in case the metadata exists"
  deadline=$((SECONDS + wait_s))
  until migrations info >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "ksql-init: the migrations metadata is not queryable after ${wait_s} s (see initialize-metadata above)" >&2
      exit 1
    fi
    sleep "$poll_s"
  done
fi

echo "ksql-init: applying ksql/"
if ! migrations apply --all; then
  echo "ksql-init: apply failed (see the log above); 'ksql-migrations info' names the version in state ERROR" >&2
  exit 1
fi

# The resulting state, for `docker compose logs ksql-init`.
migrations info
