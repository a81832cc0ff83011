#!/usr/bin/env bash
# End-to-end smoke test of the Docker Compose deployment. With the stack up (`docker compose up -d --wait`):
#
#   1. starts a second, private Compose project with the embedded engine (`app-embedded`, its own Redpanda and
#      PostgreSQL, other host ports), so both engines get the same input without touching the stack under test;
#   2. starts the same bounded simulation (fixed seed, fixed number of events) on both apps (POST /simulate);
#   3. checks the stack under test: an SSE client gets a `snapshot` and a `latest` event, the four documented
#      endpoints return rows, and Kafka Connect fills the three warehouse tables (the alerts through ksqlDB's Avro
#      copy of device_alerts: sound readings leave their normal range in a quarter of the readings, so every run
#      opens alerts);
#   4. waits until both runs are complete and their warehouse tables settled, then checks that the distributed
#      engines (ksqlDB + Kafka Connect) and the embedded engine agree, within the tolerances stated below.
#
# Exits 0 when everything holds; otherwise 1, with a line naming the failing piece. The private project is removed
# on exit (its logs are printed first when the test failed). Needs bash, curl, jq and docker compose; psql runs
# inside the postgres containers. Runs in CI on a hosted runner (.github/workflows/compose-smoke.yml).
#
# Settings (environment): APP_URL (default http://127.0.0.1:${APP_HOST_PORT:-8080}), API_KEY (sent as x-api-key
# when set), POSTGRES_USER / POSTGRES_DB (as in docker-compose.yml), SMOKE_SEED, SMOKE_MAX_EVENTS, SMOKE_WAIT_S,
# SMOKE_EMBEDDED_PROJECT and SMOKE_EMBEDDED_PORT_BASE (host ports of the private project: base+80 for its app,
# base+32 PostgreSQL, base+92 Kafka, base+81 Schema Registry, base+82 HTTP proxy, base+44 admin).
set -euo pipefail
cd "$(dirname "$0")/.."

APP_URL="${APP_URL:-http://127.0.0.1:${APP_HOST_PORT:-8080}}"
PG_USER="${POSTGRES_USER:-telemetry}"
PG_DB="${POSTGRES_DB:-telemetry}"
SEED="${SMOKE_SEED:-424242}"
# 3 devices at the default rates (a location fix every 2 s, a status reading every 0.5 s) make 7.5 events/s:
# 450 events are a 60-second run.
DEVICES='["dev-1","dev-2","dev-3"]'
MAX_EVENTS="${SMOKE_MAX_EVENTS:-450}"
RUN_S=$(( MAX_EVENTS * 2 / 15 ))
# Bound of every wait below, except the SSE one and the wait for the runs to complete (RUN_S + WAIT_S).
WAIT_S="${SMOKE_WAIT_S:-180}"
SSE_WAIT_S=45
# Polls use a fixed interval, not a backoff: this script may use only curl, jq and docker compose, and the
# project's one backoff (src/core/backoff.ts) serves its TypeScript retry loops.
POLL_S="${SMOKE_POLL_S:-2}"
EMBEDDED_PROJECT="${SMOKE_EMBEDDED_PROJECT:-telemetry-smoke-embedded}"
PORT_BASE="${SMOKE_EMBEDDED_PORT_BASE:-28000}"
EMBEDDED_URL="http://127.0.0.1:$((PORT_BASE + 80))"

fail() {
  echo "compose-smoke: FAIL [$1] $2" >&2
  exit 1
}
step() { echo "compose-smoke: $*"; }

for tool in curl jq docker; do
  command -v "$tool" >/dev/null || fail setup "$tool is not installed"
done
docker compose version >/dev/null 2>&1 || fail setup "docker compose (v2) is not available"

auth=()
if [ -n "${API_KEY:-}" ]; then auth=(-H "x-api-key: ${API_KEY}"); fi

# The private project: the same compose file, another project name and host ports, only app-embedded and what it
# depends on (Redpanda, PostgreSQL).
embedded() {
  APP_HOST_PORT=$((PORT_BASE + 80)) POSTGRES_HOST_PORT=$((PORT_BASE + 32)) \
    REDPANDA_KAFKA_HOST_PORT=$((PORT_BASE + 92)) REDPANDA_SCHEMA_REGISTRY_HOST_PORT=$((PORT_BASE + 81)) \
    REDPANDA_PROXY_HOST_PORT=$((PORT_BASE + 82)) REDPANDA_ADMIN_HOST_PORT=$((PORT_BASE + 44)) \
    docker compose -p "$EMBEDDED_PROJECT" "$@"
}
distributed() { docker compose "$@"; }

cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "compose-smoke: logs of the embedded comparison project ($EMBEDDED_PROJECT):" >&2
    embedded logs --no-color --tail 100 >&2 || true
  fi
  embedded --profile embedded down -v --remove-orphans >/dev/null 2>&1 || true
  exit "$status"
}

# Runs `$@` every POLL_S seconds until it succeeds; fails naming `piece` when `timeout_s` passed first.
wait_until() {
  local piece=$1 what=$2 timeout_s=$3
  shift 3
  local deadline=$((SECONDS + timeout_s))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then fail "$piece" "$what: not within ${timeout_s} s"; fi
    sleep "$POLL_S"
  done
}

get() { curl -fsS --max-time 10 ${auth[@]+"${auth[@]}"} "$1"; }
answers() { get "$1" >/dev/null; }
has_rows() {
  local body
  body=$(get "$1") && jq -e 'type == "array" and length > 0' >/dev/null <<<"$body"
}
# One SQL query in a project's postgres container, the single value it returns on stdout.
sql() {
  "$1" exec -T postgres psql -U "$PG_USER" -d "$PG_DB" -XAtq -v ON_ERROR_STOP=1 -c "$2"
}
table_filled() { [ "$(sql distributed "select count(*) > 0 from $1" 2>/dev/null)" = t ]; }
run_completed() {
  local state
  state=$(get "$1/simulate" | jq -r .state) || return 1
  case "$state" in
    completed) return 0 ;;
    running | stopping) return 1 ;;
    *) fail simulator "the run on $1 ended in state $state instead of completed" ;;
  esac
}

# ---------------------------------------------------------------------------------------------------------------
step "stack under test at $APP_URL"
answers "$APP_URL/health" || fail app "$APP_URL/health does not answer: is the stack up (docker compose up -d --wait)?"

trap cleanup EXIT
step "starting the embedded engine in project $EMBEDDED_PROJECT for the comparison"
embedded up -d --wait --wait-timeout "$WAIT_S" --no-build app-embedded >/dev/null ||
  fail embedded-stack "docker compose -p $EMBEDDED_PROJECT up app-embedded failed"
wait_until embedded-stack "$EMBEDDED_URL/health" "$WAIT_S" answers "$EMBEDDED_URL/health"

body=$(jq -nc --argjson seed "$SEED" --argjson devices "$DEVICES" --argjson max "$MAX_EVENTS" \
  '{seed: $seed, devices: $devices, max_events: $max}')
answer=$(mktemp)
for url in "$APP_URL" "$EMBEDDED_URL"; do
  code=$(curl -sS --max-time 10 -o "$answer" -w '%{http_code}' ${auth[@]+"${auth[@]}"} \
    -H 'content-type: application/json' -d "$body" "$url/simulate") || code=000
  [ "$code" = 202 ] || fail simulator "POST $url/simulate answered $code: $(cat "$answer")"
done
rm -f "$answer"
step "simulations started on both engines: seed $SEED, $MAX_EVENTS events (about $RUN_S s)"

# ---------------------------------------------------------------------------------------------------------------
# The stack under test, while the simulation runs (the SSE check needs changes to happen).
step "SSE: /stream/latest/events"
# awk stops reading at the first `latest` event after the `snapshot`; curl then ends at its next write or at
# --max-time, whichever comes first.
sse=$({ curl -sN --max-time "$SSE_WAIT_S" ${auth[@]+"${auth[@]}"} "$APP_URL/stream/latest/events" || true; } |
  awk '/^event: ?snapshot/ { snapshot = 1 } /^event: ?latest/ && snapshot { print "ok"; exit }')
[ "$sse" = ok ] || fail sse "/stream/latest/events sent no snapshot followed by a latest event within ${SSE_WAIT_S} s"

for endpoint in '/stream/raw?device_id=dev-1' /stream/latest '/stream/postgresql/raw?device_id=dev-1' \
  /stream/postgresql/latest; do
  step "rows from $endpoint"
  wait_until "endpoint $endpoint" "rows from GET $endpoint" "$WAIT_S" has_rows "$APP_URL$endpoint"
done

for table in device_winagg_status_per2s device_winagg_status_perdevice device_alerts; do
  step "Kafka Connect fills $table"
  wait_until "warehouse $table" "rows in $table (written by Kafka Connect)" "$WAIT_S" table_filled "$table"
done

# ---------------------------------------------------------------------------------------------------------------
step "waiting for both runs to complete"
for url in "$APP_URL" "$EMBEDDED_URL"; do
  wait_until simulator "run on $url completed" $((RUN_S + WAIT_S)) run_completed "$url"
done

# What each engine made of this run, from its warehouse (same SQL for both) and its stream layer. Windows are
# taken from the run's start on (less one window), so rows of earlier runs on a long-lived stack do not count.
devices_sql="('dev-1', 'dev-2', 'dev-3')"
windows_sql="select coalesce(json_agg(s order by s.device_id), '[]') from (
  select device_id, count(*) as windows, sum(event_count) as rows,
    sum(avg_temp * event_count) / sum(event_count) as temp,
    sum(avg_sound * event_count) / sum(event_count) as sound,
    sum(avg_alt * event_count) / sum(event_count) as alt,
    min(nullif(avg_temp, 0)) as min_temp, max(avg_temp) as max_temp,
    min(nullif(avg_sound, 0)) as min_sound, max(avg_sound) as max_sound,
    min(nullif(avg_alt, 0)) as min_alt, max(avg_alt) as max_alt
  from device_winagg_status_per2s
  where device_id in $devices_sql and window_start >= %SINCE%
  group by device_id) s"
latest_sql="select coalesce(json_agg(l order by l.device_id), '[]') from (
  select device_id, latitude, longitude, temperature, sound, altitude
  from device_winagg_status_perdevice where device_id in $devices_sql) l"

# One engine's results as a JSON object; the start per stack, since the two runs started at different times.
summary() {
  local compose=$1 url=$2 run start
  run=$(get "$url/simulate") || return 1
  start=$(jq '(.started_at | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000 - 2000' <<<"$run")
  jq -n --argjson sim "$run" \
    --argjson windows "$(sql "$compose" "${windows_sql//%SINCE%/$start}")" \
    --argjson latest "$(sql "$compose" "$latest_sql")" \
    --argjson api "$(get "$url/stream/latest")" \
    '{sim: $sim, windows: $windows, latest: $latest, api: $api}'
}

# Settled: two reads POLL_S * 3 seconds apart give the same warehouse contents (ksqlDB commits every 2 s, the
# embedded processor flushes every second, and the sinks follow).
previous=""
settled() {
  local now
  now=$(summary distributed "$APP_URL" | jq -c '{windows, latest}')$(summary embedded "$EMBEDDED_URL" | jq -c '{windows, latest}')
  if [ -n "$previous" ] && [ "$now" = "$previous" ]; then return 0; fi
  previous=$now
  sleep $((POLL_S * 2))
  return 1
}
step "waiting until both warehouses settle"
wait_until comparison "both warehouses unchanged for $((POLL_S * 3)) s" "$WAIT_S" settled

distributed_json=$(summary distributed "$APP_URL") || fail comparison "could not read the results of the stack under test"
embedded_json=$(summary embedded "$EMBEDDED_URL") || fail comparison "could not read the results of the embedded engine"

# ---------------------------------------------------------------------------------------------------------------
# The comparison. Same seed and the same number of events give both engines the same input values: every
# device's positions and readings come from its own seeded streams (docs/simulators.md), and the set of events
# is the first MAX_EVENTS ticks of a fixed schedule. What differs: absolute timestamps and ids (wall clock,
# UUIDv7), and the read order of the two topics. Hence:
#
# - Per-window values are NOT compared: windows are aligned to the epoch and each run starts at another phase,
#   so the same events fall into other windows. Compared per device over the run instead.
# - Windows per device: a device's fixes are exactly 2 s apart, so each fix opens its own 2-second window, and the
#   statuses up to 2 s after the last fix may add one more. Hence, per engine, location fixes <= windows <= fixes
#   + devices (all fixes stay in the geofence: sigma 0.001 moves a device about 0.01 degree in a minute), and
#   between the engines at most 1 window per device apart.
# - Join rows per device (sum of EVENT_COUNT): every (location, status) pair within 2 s gives one row in both, but
#   a location read before any status within 2 s also gives an eager [location, null] row, and how often that
#   happens depends on the order in which each engine read the two topics (ksqldb-semantics.md §1.7). Tolerance:
#   max(3, 2 %).
# - Mean of each sensor over the join rows (window averages weighted by EVENT_COUNT): the same pairs give the same
#   mean; the eager null rows and edge windows move it a little. Tolerance: 5 % of the sensor's normal range
#   (temperature 0.5, sound 1, altitude 50). Every window average lies in the normal range widened by the
#   20 % anomaly deviation (temperature 18-32, sound 26-54, altitude 800-2200), or is 0.0 (a window without
#   readings, as ksqlDB's AVG gives).
# - Latest position per device: the last row of JOIN_EVENTS for a device belongs to its last fix inside the
#   geofence in both engines (later statuses only join that fix), so latitude and longitude agree to 1e-6 and lie
#   in the geofence (latitude 8-10, longitude 106-108). Within each engine the stream layer (/stream/latest) and the
#   warehouse agree to 1e-6 too.
# - Latest sensor values: in theory the last status within 2 s of that fix in both engines, but that rests on the
#   order in which each engine emits one location's matches, which has not been observed for ksqlDB here; they are
#   only checked to lie in the widened ranges.
problems=$(jq -rn --argjson k "$distributed_json" --argjson e "$embedded_json" --argjson devices "$DEVICES" \
  --argjson max "$MAX_EVENTS" -f /dev/stdin <<'JQ'
def abs: if . < 0 then -. else . end;
def near($a; $b; $tol): (($a - $b) | abs) <= $tol;
def ranges: {temp: [18, 32], sound: [26, 54], alt: [800, 2200]};
def latest_ranges: {temperature: [18, 32], sound: [26, 54], altitude: [800, 2200]};
def by_device: map({key: .device_id, value: .}) | from_entries;

def engine($name; $s):
  $s.sim as $sim
  | ($sim.topics.location.sent) as $fixes
  | ($s.windows | map(.windows) | add // 0) as $windows
  | [
      (if $sim.state != "completed" then "\($name) simulator: run state \($sim.state)" else empty end),
      (($sim.topics.location.sent + $sim.topics.status.sent) as $sent
        | if $sent != $max then "\($name) simulator: \($sent) events acknowledged, expected \($max)" else empty end),
      (([$sim.topics[] | .skipped_late + .skipped_backpressure] | add) as $skipped
        | if $skipped > 0 then "\($name) simulator: \($skipped) ticks skipped, so the engines did not get the same input" else empty end),
      (($s.windows | map(.device_id)) as $got
        | if $got != $devices then "\($name) windows: devices \($got), expected \($devices)" else empty end),
      (if $windows < $fixes or $windows > $fixes + ($devices | length)
        then "\($name) windows: \($windows) windows for \($fixes) location fixes (expected \($fixes)..\($fixes + ($devices | length)))"
        else empty end),
      ($s.windows[] as $d | ranges | to_entries[] | .key as $c | .value as [$lo, $hi]
        | ($d["min_" + $c], $d["max_" + $c]) | select(. != null and (. < $lo or . > $hi))
        | "\($name) windows: \($d.device_id) average \($c) \(.) outside \($lo)-\($hi)"),
      (($s.latest | map(.device_id)) as $got
        | if $got != $devices then "\($name) latest (warehouse): devices \($got), expected \($devices)" else empty end),
      ($s.latest[] | select(.latitude < 8 or .latitude > 10 or .longitude < 106 or .longitude > 108)
        | "\($name) latest: \(.device_id) at \(.latitude), \(.longitude), outside the geofence"),
      ($s.latest[] as $d | latest_ranges | to_entries[] | .key as $c | .value as [$lo, $hi]
        | $d[$c] | select(. != null and (. < $lo or . > $hi))
        | "\($name) latest: \($d.device_id) \($c) \(.) outside \($lo)-\($hi)"),
      (($s.api | by_device) as $api | $s.latest[]
        | select(($api[.device_id] == null) or (near(.latitude; $api[.device_id].latitude; 1e-6) and near(.longitude; $api[.device_id].longitude; 1e-6) | not))
        | "\($name) latest: \(.device_id) differs between /stream/latest (\($api[.device_id] | {latitude, longitude})) and the warehouse (\({latitude, longitude}))")
    ];

def across:
  ($k.windows | by_device) as $kw | ($e.windows | by_device) as $ew
  | ($k.latest | by_device) as $kl | ($e.latest | by_device) as $el
  | [
      ($devices[] as $d | $kw[$d] as $a | $ew[$d] as $b | select($a != null and $b != null)
        | (if near($a.windows; $b.windows; 1) | not
            then "compare windows: \($d) has \($a.windows) windows on ksqlDB, \($b.windows) on the embedded engine (tolerance 1)" else empty end),
          ((([$a.rows, $b.rows] | max) * 0.02 | if . < 3 then 3 else . end) as $tol
            | if near($a.rows; $b.rows; $tol) | not
              then "compare join rows: \($d) has \($a.rows) on ksqlDB, \($b.rows) on the embedded engine (tolerance \($tol))" else empty end),
          ({temp: 0.5, sound: 1, alt: 50} | to_entries[] | .key as $c | .value as $tol
            | select(($a[$c] == null) != ($b[$c] == null) or ($a[$c] != null and (near($a[$c]; $b[$c]; $tol) | not)))
            | "compare mean \($c): \($d) \($a[$c]) on ksqlDB, \($b[$c]) on the embedded engine (tolerance \($tol))")),
      ($devices[] as $d | $kl[$d] as $a | $el[$d] as $b | select($a != null and $b != null)
        | select((near($a.latitude; $b.latitude; 1e-6) and near($a.longitude; $b.longitude; 1e-6)) | not)
        | "compare latest position: \($d) at \($a.latitude), \($a.longitude) on ksqlDB, \($b.latitude), \($b.longitude) on the embedded engine (tolerance 1e-6)")
    ];

(engine("ksqldb"; $k) + engine("embedded"; $e) + across)[]
JQ
) || fail comparison "the comparison itself failed (jq)"

jq -rn --argjson k "$distributed_json" --argjson e "$embedded_json" '
  "compose-smoke: per device (ksqlDB | embedded): windows, join rows, mean temperature",
  ($k.windows | to_entries[] | .key as $i | .value as $a | $e.windows[$i] as $b
    | "  \($a.device_id): \($a.windows) | \($b.windows // "-"), \($a.rows) | \($b.rows // "-"), \($a.temp) | \($b.temp // "-")")'

if [ -n "$problems" ]; then
  while IFS= read -r line; do echo "compose-smoke: FAIL [${line%%:*}] ${line#*: }" >&2; done <<<"$problems"
  exit 1
fi
step "OK: endpoints, SSE, Kafka Connect, and ksqlDB agrees with the embedded engine for seed $SEED"
