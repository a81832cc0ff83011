/**
 * How big the processor's state gets: the topology of one partition (`src/core/topology.ts`, as the processor
 * configures it) fed in simulated event time, pruned and checkpointed every simulated second as the processor does
 * at each flush, with the sizes of the join store, the open windows, the restart log and the per-device table
 * printed against the formulas of docs/processor.md ("Bounded state: figures"). No broker: state size depends only
 * on the events, so simulated time gives the same figures as a live run at the same rate.
 *
 *   npm run bench:state -- [--devices 1000] [--seconds 300] [--grace-ms 120000]
 *                          [--churn-per-second 0] [--horizon-ms 604800000] [--max-devices 200000]
 *
 * Per device: a status every 0.5 s and a location every 2 s (the specification's rates), all inside the geofence.
 * With `--churn-per-second C`, C devices stop for good every second and as many new ids start, so the device ids
 * seen grow without end while the live count stays `--devices`. Run with `node --expose-gc --import tsx
 * bench/state.ts …` to add retained heap figures. Figures only, no assertions.
 */
import { parseArgs } from 'node:util';
import { PartitionTopology, type TopologyOutput } from '../src/core/topology.js';

const { values } = parseArgs({
  options: {
    devices: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '300' },
    'grace-ms': { type: 'string', default: '120000' },
    'churn-per-second': { type: 'string', default: '0' },
    'horizon-ms': { type: 'string', default: '604800000' },
    'max-devices': { type: 'string', default: '200000' },
  },
});
const devices = Math.min(Number(values.devices), 200_000);
const seconds = Math.min(Number(values.seconds), 86_400);
const graceMs = Number(values['grace-ms']);
const churn = Math.min(Number(values['churn-per-second']), devices);
const horizonMs = Number(values['horizon-ms']);
const maxDevices = Number(values['max-devices']);

const noOutput: TopologyOutput = { joinRow() {}, windowUpdate() {}, deviceUpdate() {} };
const topology = new PartitionTopology(
  { windowGraceMs: graceMs, joinRetentionMs: graceMs + 2000, deviceIdleHorizonMs: horizonMs, maxDevices },
  noOutput,
);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

// Stored join records arrive at 2 statuses + 0.5 locations per device-second; prune keeps grace + 4 s of them
// (join retention grace + 2 s, and rows feeding a window open for grace after its 2 s); windows stay open for the
// grace after they end, so grace / 2 s + 1 per device.
const storedPerSecond = devices * 2.5;
const expectedJoin = storedPerSecond * ((graceMs + 4000) / 1000);
const expectedWindows = devices * (graceMs / 2000 + 1);
// A device enters the per-device table with its first joined row and is held until idle beyond the horizon.
const expectedDevices = Math.min(maxDevices, devices + churn * Math.min(seconds, horizonMs / 1000));

const t0 = 1_700_000_000_000;
const offsets = { location: 0, status: 0 };
const heapAtStart = heap();
let firstId = 0; // live devices are ids firstId .. firstId + devices − 1
const rows: string[][] = [];
const sampleAt = new Set([10, 30, 60, 120, 125, 180, 300, 600, 1200, 1800, 3600].filter((s) => s <= seconds));
sampleAt.add(seconds);
const started = performance.now();

for (let tick = 0; tick < seconds * 2; tick++) {
  const t = t0 + tick * 500;
  for (let i = 0; i < devices; i++) {
    const d = firstId + i;
    const id = `dev-${d}`;
    const ts = t + ((d * 7) % 500);
    topology.processStatus(
      { id: `s-${d}-${tick}`, deviceId: id, sound: 40, temperature: 25, altitude: 1500, eventTs: ts },
      offsets.status++,
    );
    if (tick % 4 === 0) {
      topology.processLocation(
        { id: `l-${d}-${tick}`, deviceId: id, latitude: 9.5, longitude: 107.5, eventTs: ts + 3 },
        offsets.location++,
      );
    }
  }
  if (tick % 2 === 1) {
    // One simulated second: the processor's checkpoint prunes and finds the replay point.
    topology.prune();
    topology.replayPoint();
    firstId += churn;
    const second = (tick + 1) / 2;
    if (sampleAt.has(second)) {
      const s = topology.stateSize;
      rows.push([
        String(second),
        String(s.joinRecords),
        String(s.windows),
        String(s.log),
        String(s.devices),
        String(firstId - churn + devices),
        `${((heap() - heapAtStart) / 1024 / 1024).toFixed(0)} MB`,
      ]);
    }
  }
}

const elapsed = (performance.now() - started) / 1000;
console.log(
  `devices ${devices}, ${seconds} s of event time, grace ${graceMs} ms, churn ${churn}/s, horizon ${horizonMs} ms, ` +
    `cap ${maxDevices}; ${(offsets.status + offsets.location).toLocaleString('en')} events in ${elapsed.toFixed(1)} s`,
);
const header = ['t (s)', 'join records', 'open windows', 'restart log', 'devices held', 'device ids seen', 'heap Δ'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
const s = topology.stateSize;
console.log(
  `formula (steady state): join records = ${storedPerSecond} stored/s × (grace + 4 s) = ${expectedJoin}; ` +
    `open windows = ${devices} × (grace / 2 s + 1) = ${expectedWindows}; devices held ≤ min(cap, live + churn × ` +
    `horizon) = ${expectedDevices}`,
);
console.log(
  `measured at the end: join records ${s.joinRecords} (${((s.joinRecords / expectedJoin) * 100).toFixed(1)} % of the formula), ` +
    `open windows ${s.windows} (${((s.windows / expectedWindows) * 100).toFixed(1)} %); devices evicted ` +
    `idle ${topology.deviceEvictions.idle}, cap ${topology.deviceEvictions.cap}` +
    (gc ? `; retained heap ${((heap() - heapAtStart) / 1024 / 1024).toFixed(0)} MB` : ''),
);
