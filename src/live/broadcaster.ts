/**
 * Fan-out of stream-layer changes to live (SSE) clients, from one upstream feed per instance.
 *
 * Guarantees:
 * - Every change gets the next sequence number of this broadcaster; event ids are `<epoch>-<seq>`, where the
 *   epoch is random per broadcaster, so an id from another instance or an earlier process is never mistaken
 *   for a position here.
 * - A new client gets a snapshot (the current state, filtered) and then every later change.
 * - A client resuming with `Last-Event-ID` gets exactly the changes after that id (no gap, no duplicate) when
 *   they are all still in the bounded history; otherwise a fresh snapshot.
 * - Slow clients never block others: each client holds at most one pending change per device for latest state,
 *   and per (device, window) for window aggregates (latest wins; a replaced change is counted as coalesced).
 *   Window revisions of different windows are all kept, up to `maxPendingPerClient`; beyond that the oldest
 *   pending change is dropped (counted), so a client's memory stays bounded.
 * - The per-device state behind the snapshots is bounded (`core/device-table.ts`): a device with no change for
 *   `deviceIdleHorizonMs` of the wall clock leaves the snapshots, and at most `maxDevices` are held (the least
 *   recently changed go). A deletion from the stream layer (a tombstone, or a device the stream layer forgot)
 *   removes the device from both snapshots; clients already connected keep what they were sent.
 *
 * Pure: no timers or I/O (the wall clock is passed in). The SSE layer pulls frames with `take()` when its socket can take more and calls
 * `heartbeat()` on its own schedule.
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type WallClock } from '../clock.js';
import { type AlertRecord, newestOpenedFirst } from '../core/alerts/alert-record.js';
import { DeviceTable } from '../core/device-table.js';
import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import type { MetricSample } from '../observability/metrics.js';
import type { StreamChange } from '../stream-layer/stream-layer.js';

export type LiveChannel = 'latest' | 'window' | 'alert';

/** What the broadcaster fans out: the stream layer's changes, and alert changes (`alert-feed.ts`). */
export type LiveChange = StreamChange | { kind: 'alert'; deviceId: string; row: AlertRecord };

type LiveRow = DeviceLatest | WindowAggregate | AlertRecord;

export interface LiveEvent {
  seq: number;
  id: string;
  channel: LiveChannel;
  deviceId: string;
  data: LiveRow;
}

export type Frame =
  | { type: 'snapshot'; id: string; channel: LiveChannel; rows: LiveRow[] }
  | { type: 'event'; event: LiveEvent }
  | { type: 'heartbeat' };

export interface SubscribeOptions {
  channel: LiveChannel;
  /** Only these devices; all when absent or empty. */
  devices?: ReadonlySet<string>;
  /** Alert channel: only these alert types; all when absent or empty. */
  types?: ReadonlySet<string>;
  /** The `Last-Event-ID` header, when the client reconnects. */
  lastEventId?: string | null;
  /** Called when frames become available after `take()` returned none. Must not throw. */
  onReadable: () => void;
  /** The client's network address, for the per-address cap. */
  address?: string;
}

/** Whether another client may subscribe: `ok`, or which cap it would exceed. */
export type Admission = 'ok' | 'max_clients' | 'max_per_address';

export interface Subscriber {
  /** How this subscription started: a snapshot, or a resume from `Last-Event-ID`. */
  readonly resumed: boolean;
  /** Frames ready to send, oldest first; empties the client's queue. */
  take(): Frame[];
  close(): void;
}

export interface BroadcasterOptions {
  /** Events kept for `Last-Event-ID` resume. @default 10000 */
  historySize?: number;
  /** Largest number of concurrent subscribers. @default 20000 */
  maxClients?: number;
  /** Largest number of concurrent subscribers from one address; 0 for no cap. @default 0 */
  maxPerAddress?: number;
  /** Largest number of changes waiting for one client. @default 1000 */
  maxPendingPerClient?: number;
  /** A device with no change for this long leaves the snapshots. @default Infinity */
  deviceIdleHorizonMs?: number;
  /** Most devices held for the snapshots; the least recently changed go. @default Infinity */
  maxDevices?: number;
  /** Told when the device cap makes the broadcaster forget a device (for a sampled log). */
  onDeviceCapReached?: (deviceId: string, capEvictions: number) => void;
  /** @default systemClock */
  clock?: WallClock;
}

export interface Broadcaster {
  publish(change: LiveChange): void;
  /** `undefined` when a cap is reached (`admission` tells which). */
  subscribe(options: SubscribeOptions): Subscriber | undefined;
  admission(address?: string): Admission;
  heartbeat(): void;
  clients(): number;
  metrics(): MetricSample[];
}

const WINDOWS_REMEMBERED = 64;
const ALERTS_REMEMBERED = 100_000;

const alertType = (row: LiveRow): string | undefined => ('alert_id' in row ? row.type : undefined);

/** What the snapshots hold per device, and the rows already seen (identical repeats are not changes). */
interface LiveDevice {
  latest: DeviceLatest | undefined;
  latestJson: string | undefined;
  newestWindow: WindowAggregate | undefined;
  windowJson: Map<number, string>;
  /** Wall-clock time of the last change. */
  lastSeen: number;
}

interface Client {
  channel: LiveChannel;
  devices: ReadonlySet<string> | undefined;
  types: ReadonlySet<string> | undefined;
  queue: Frame[];
  pending: Map<string, LiveEvent>;
  heartbeat: boolean;
  onReadable: () => void;
}

export function createBroadcaster(options: BroadcasterOptions = {}): Broadcaster {
  const historySize = options.historySize ?? 10_000;
  const maxClients = options.maxClients ?? 20_000;
  const maxPerAddress = options.maxPerAddress ?? 0;
  /** Subscribers per address, for the per-address cap. */
  const perAddress = new Map<string, number>();
  const maxPending = options.maxPendingPerClient ?? 1000;
  const epoch = randomBytes(4).toString('hex');
  const clock = options.clock ?? systemClock;
  const deviceTable = new DeviceTable<LiveDevice>({
    idleHorizonMs: options.deviceIdleHorizonMs ?? Number.POSITIVE_INFINITY,
    maxDevices: options.maxDevices ?? Number.POSITIVE_INFINITY,
    lastSeenOf: (d) => d.lastSeen,
    onEvict: (deviceId, _device, reason) => {
      if (reason === 'cap') options.onDeviceCapReached?.(deviceId, deviceTable.evictions.cap);
    },
  });
  /** Active alerts (the alert snapshot), and the newest revision seen per alert (repeated changes are ignored). */
  const activeAlerts = new Map<string, AlertRecord>();
  const alertRevisions = new Map<string, number>();
  const history: (LiveEvent | undefined)[] = new Array(historySize);
  let historyCount = 0;
  let seq = 0;
  const clients = new Set<Client>();
  const counters = {
    published: 0,
    unchanged: 0,
    delivered: 0,
    coalesced: 0,
    dropped: 0,
    snapshots: 0,
    resumes: 0,
    rejected: 0,
    rejectedPerAddress: 0,
  };

  function admission(address: string | undefined): Admission {
    if (clients.size >= maxClients) return 'max_clients';
    if (maxPerAddress > 0 && address !== undefined && (perAddress.get(address) ?? 0) >= maxPerAddress) {
      return 'max_per_address';
    }
    return 'ok';
  }

  const idOf = (n: number) => `${epoch}-${n}`;
  const wants = (client: Client, channel: LiveChannel, deviceId: string, type?: string) =>
    client.channel === channel &&
    (!client.devices || client.devices.has(deviceId)) &&
    (!client.types || type === undefined || client.types.has(type));

  function isEmpty(client: Client) {
    return client.queue.length === 0 && client.pending.size === 0 && !client.heartbeat;
  }

  function snapshot(
    channel: LiveChannel,
    devices: ReadonlySet<string> | undefined,
    types?: ReadonlySet<string>,
  ): Frame {
    if (channel === 'alert') {
      const rows = [...activeAlerts.values()]
        .filter((a) => (!devices || devices.has(a.device_id)) && (!types || types.has(a.type)))
        .sort(newestOpenedFirst);
      counters.snapshots++;
      return { type: 'snapshot', id: idOf(seq), channel, rows };
    }
    deviceTable.evictIdle(clock.now());
    const held: [string, LiveRow][] = [];
    for (const [deviceId, device] of deviceTable.entries()) {
      const row = channel === 'latest' ? device.latest : device.newestWindow;
      if (row && (!devices || devices.has(deviceId))) held.push([deviceId, row]);
    }
    const rows = held.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    counters.snapshots++;
    return { type: 'snapshot', id: idOf(seq), channel, rows };
  }

  /** The events after `lastEventId` for this client, or undefined when that position is unknown. */
  function replay(lastEventId: string, client: Client): Frame[] | undefined {
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId);
    if (!match || match[1] !== epoch) return undefined;
    const after = Number(match[2]);
    const oldest = seq - historyCount + 1;
    if (!Number.isSafeInteger(after) || after > seq || after < oldest - 1) return undefined;
    const frames: Frame[] = [];
    for (let n = after + 1; n <= seq; n++) {
      const event = history[n % historySize];
      if (event && wants(client, event.channel, event.deviceId, alertType(event.data))) {
        frames.push({ type: 'event', event });
      }
    }
    return frames;
  }

  /** Records the change in the history and queues it for every client that watches it. */
  function fanOut(channel: LiveChannel, deviceId: string, data: LiveRow, pendingKey: string, type?: string): void {
    seq++;
    counters.published++;
    const event: LiveEvent = { seq, id: idOf(seq), channel, deviceId, data };
    history[seq % historySize] = event;
    if (historyCount < historySize) historyCount++;
    for (const client of clients) {
      if (!wants(client, channel, deviceId, type)) continue;
      const wasEmpty = isEmpty(client);
      if (client.pending.has(pendingKey)) counters.coalesced++;
      // Delete first so the map's insertion order stays the order of the newest events.
      client.pending.delete(pendingKey);
      client.pending.set(pendingKey, event);
      if (client.pending.size > maxPending) {
        client.pending.delete(client.pending.keys().next().value as string);
        counters.dropped++;
      }
      if (wasEmpty) client.onReadable();
    }
  }

  /** An alert change: the newest revision wins; the snapshot holds the active ones. */
  function publishAlert(alert: AlertRecord): void {
    const seen = alertRevisions.get(alert.alert_id) ?? 0;
    if (alert.revision <= seen) {
      counters.unchanged++;
      return;
    }
    alertRevisions.set(alert.alert_id, alert.revision);
    // Bounded: cleared alerts are forgotten once many newer ones were seen (a stale replay of one is then sent again).
    if (alertRevisions.size > ALERTS_REMEMBERED) alertRevisions.delete(alertRevisions.keys().next().value as string);
    if (alert.status === 'active') activeAlerts.set(alert.alert_id, alert);
    else activeAlerts.delete(alert.alert_id);
    fanOut('alert', alert.device_id, alert, alert.alert_id, alert.type);
  }

  return {
    publish(change) {
      if (change.kind === 'alert') {
        publishAlert(change.row);
        return;
      }
      if (change.row === null) {
        // A deleted device leaves the snapshots; live clients keep its last state (SSE has no removal event).
        deviceTable.delete(change.deviceId);
        return;
      }
      const now = clock.now();
      deviceTable.evictIdle(now);
      let device = deviceTable.get(change.deviceId, now);
      if (device) {
        device.lastSeen = Math.max(device.lastSeen, now);
      } else {
        device = {
          latest: undefined,
          latestJson: undefined,
          newestWindow: undefined,
          windowJson: new Map(),
          lastSeen: now,
        };
        deviceTable.set(change.deviceId, device);
      }
      const channel: LiveChannel = change.kind === 'latest' ? 'latest' : 'window';
      const json = JSON.stringify(change.row);
      // A replayed feed (ksqlDB push query restart) repeats rows; identical rows are not changes.
      if (change.kind === 'latest') {
        if (device.latestJson === json) {
          counters.unchanged++;
          return;
        }
        device.latestJson = json;
        device.latest = change.row;
      } else {
        const seen = device.windowJson;
        if (seen.get(change.row.window_start) === json) {
          counters.unchanged++;
          return;
        }
        seen.set(change.row.window_start, json);
        // Bounded: only the most recently touched windows of each device are remembered for deduplication.
        if (seen.size > WINDOWS_REMEMBERED) seen.delete(seen.keys().next().value as number);
        const current = device.newestWindow;
        if (!current || current.window_start <= change.row.window_start) device.newestWindow = change.row;
      }
      // Latest state supersedes per device; a window revision supersedes only the same window.
      const pendingKey = change.kind === 'latest' ? change.deviceId : `${change.deviceId}/${change.row.window_start}`;
      fanOut(channel, change.deviceId, change.row, pendingKey);
    },
    admission,
    subscribe({ channel, devices, types, lastEventId, onReadable, address }) {
      const admitted = admission(address);
      if (admitted !== 'ok') {
        if (admitted === 'max_clients') counters.rejected++;
        else counters.rejectedPerAddress++;
        return undefined;
      }
      if (address !== undefined) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
      let open = true;
      const client: Client = {
        channel,
        devices: devices && devices.size > 0 ? devices : undefined,
        types: types && types.size > 0 ? types : undefined,
        queue: [],
        pending: new Map(),
        heartbeat: false,
        onReadable,
      };
      const replayed = lastEventId ? replay(lastEventId, client) : undefined;
      if (replayed) {
        counters.resumes++;
        client.queue.push(...replayed);
      } else {
        client.queue.push(snapshot(channel, client.devices, client.types));
      }
      clients.add(client);
      return {
        resumed: replayed !== undefined,
        take() {
          const frames = client.queue;
          client.queue = [];
          for (const event of client.pending.values()) frames.push({ type: 'event', event });
          counters.delivered += client.pending.size;
          client.pending.clear();
          if (client.heartbeat) {
            frames.push({ type: 'heartbeat' });
            client.heartbeat = false;
          }
          return frames;
        },
        close() {
          if (!open) return;
          open = false;
          clients.delete(client);
          if (address === undefined) return;
          const left = (perAddress.get(address) ?? 1) - 1;
          if (left > 0) perAddress.set(address, left);
          else perAddress.delete(address);
        },
      };
    },
    heartbeat() {
      for (const client of clients) {
        const wasEmpty = isEmpty(client);
        client.heartbeat = true;
        if (wasEmpty) client.onReadable();
      }
    },
    clients: () => clients.size,
    metrics(): MetricSample[] {
      const samples: [string, string, 'counter' | 'gauge', number][] = [
        ['sse_clients', 'Connected SSE clients', 'gauge', clients.size],
        ['sse_events_published_total', 'Changes fanned out to SSE clients', 'counter', counters.published],
        [
          'sse_events_unchanged_total',
          'Feed rows identical to the state already held (not sent)',
          'counter',
          counters.unchanged,
        ],
        ['sse_events_delivered_total', 'Change events handed to SSE client sockets', 'counter', counters.delivered],
        [
          'sse_events_coalesced_total',
          'Changes replaced by a newer one for the same device before a slow client took them',
          'counter',
          counters.coalesced,
        ],
        [
          'sse_events_dropped_total',
          'Pending changes dropped because a slow client had maxPendingPerClient waiting',
          'counter',
          counters.dropped,
        ],
        ['sse_snapshots_total', 'Snapshots sent to new or non-resumable SSE clients', 'counter', counters.snapshots],
        ['sse_resumes_total', 'SSE clients resumed from Last-Event-ID without a snapshot', 'counter', counters.resumes],
        [
          'sse_clients_rejected_total',
          'SSE connections refused because SSE_MAX_CLIENTS was reached',
          'counter',
          counters.rejected,
        ],
        [
          'sse_clients_rejected_per_address_total',
          'SSE connections refused because their address already had SSE_MAX_CLIENTS_PER_ADDRESS open',
          'counter',
          counters.rejectedPerAddress,
        ],
        ['sse_client_addresses', 'Distinct addresses with SSE connections open', 'gauge', perAddress.size],
        ['sse_devices', 'Devices held for the SSE snapshots', 'gauge', deviceTable.size],
      ];
      const evicted = (['idle', 'cap'] as const).map(
        (reason): MetricSample => ({
          name: 'sse_devices_evicted_total',
          help:
            'Devices the SSE snapshots forgot: no change for STREAM_DEVICE_IDLE_HORIZON_MS, or the least recently ' +
            'changed beyond STREAM_MAX_DEVICES',
          type: 'counter',
          value: deviceTable.evictions[reason],
          labels: { reason },
        }),
      );
      return [...samples.map(([name, help, type, value]): MetricSample => ({ name, help, type, value })), ...evicted];
    },
  };
}
