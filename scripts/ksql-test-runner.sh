#!/usr/bin/env bash
# Runs every case of ksql/tests/ (one folder per case: input.json, output.json) through ksqlDB's own
# ksql-test-runner inside the ksqldb-server container, against the statements of ksql/V*__*.sql in version order
# (the order in which the ksql-init service applies them with ksql-migrations).
# The same cases run against the embedded TypeScript processor in `npm test`; both passing means the two engines
# agree on them. Needs the compose stack up (`docker compose up -d ksqldb-server`); docker-compose.yml mounts
# ./ksql read-only at /opt/telemetry/ksql in that container.
#
#   scripts/ksql-test-runner.sh            # every case
#   scripts/ksql-test-runner.sh some-case  # only the named case folders
#
# Exits non-zero when any case fails; each case's full output is kept in the container under /tmp/ksql-tests/.
set -euo pipefail

service="${KSQLDB_SERVICE:-ksqldb-server}"
cd "$(dirname "$0")/.."

docker compose exec -T "$service" bash -s -- "$@" <<'IN_CONTAINER'
set -uo pipefail
dir=/opt/telemetry/ksql
out=/tmp/ksql-tests
mkdir -p "$out"
if ! command -v ksql-test-runner >/dev/null; then
  echo "ksql-test-runner is not on the PATH of this image" >&2
  exit 2
fi
# One statements file: the migration files joined in the order ksql-migrations applies them (the glob expands in
# name order, and the six-digit versions make name order version order).
statements="$out/statements.sql"
: > "$statements"
for file in "$dir"/V*__*.sql; do
  cat "$file" >> "$statements"
  printf '\n' >> "$statements"
done

if [ "$#" -gt 0 ]; then
  cases=()
  for name in "$@"; do cases+=("$dir/tests/$name"); done
else
  cases=("$dir"/tests/*/)
fi

passed=0
failed=0
failed_names=()
for case_dir in "${cases[@]}"; do
  case_dir="${case_dir%/}"
  name="$(basename "$case_dir")"
  if [ ! -f "$case_dir/input.json" ] || [ ! -f "$case_dir/output.json" ]; then
    echo "SKIP-INVALID $name (no input.json/output.json)"
    failed=$((failed + 1))
    failed_names+=("$name")
    continue
  fi
  log="$out/$name.log"
  # The tool's exit code alone is not trusted: a passing run also prints "Test passed".
  if ksql-test-runner -s "$statements" -i "$case_dir/input.json" -o "$case_dir/output.json" > "$log" 2>&1 \
    && grep -q "Test passed" "$log"; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name (log: $log)"
    grep -E "Test failed|Expected|but was|Exception" "$log" | head -n 20 | sed 's/^/    /'
    failed=$((failed + 1))
    failed_names+=("$name")
  fi
done

echo "ksql-test-runner: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
IN_CONTAINER
