/**
 * Per-device state with a bound: devices idle beyond a horizon are forgotten, and at most `maxDevices` are held.
 * Pure: time is whatever the caller passes (stream time in the processor and the alert detector, so a replay
 * decides the same; the stream layer's record time; the broadcaster's wall clock).
 *
 * Rules (docs/processor.md, "Bounded per-device state"):
 * - A device is **idle** at time `now` when its last-seen time is at or before `now − idleHorizonMs`. `get`
 *   never returns an idle device (it forgets it on the spot), so when idle devices are physically removed
 *   (`evictIdle`, at each checkpoint) never changes a result, only memory.
 * - **Cap**: when a `set` makes more than `maxDevices`, the device with the smallest (last-seen, id) goes, which
 *   may be the one just set. Idle devices have smaller last-seen times than every other, so they go first, and
 *   the devices held that are not idle are the same whether or not idle ones were removed before: the top
 *   `maxDevices` by (last-seen, id). That is what a restore rebuilds from each device's last output record.
 *
 * Last-seen times come from the values (`lastSeenOf`) and must only grow while a value is held (replace the value
 * with `set` to move it back). The order is kept in a min-heap whose keys may lag behind the values (a lower
 * bound); a stale top is re-keyed when it is looked at, so updating a device costs nothing on the hot path.
 */

export type EvictionReason = 'idle' | 'cap';

export interface DeviceTableOptions<V> {
  /** Devices last seen at or before `now − idleHorizonMs` are forgotten; `Infinity` never forgets. */
  idleHorizonMs: number;
  /** Most devices held; `Infinity` for no cap. */
  maxDevices: number;
  /** The device's last-seen time (non-decreasing while the value is held). */
  lastSeenOf: (value: V) => number;
  /** Told about every eviction (for sampled logs and for state that must leave a changelog). */
  onEvict?: (deviceId: string, value: V, reason: EvictionReason) => void;
}

interface Slot<V> {
  id: string;
  value: V;
}

interface HeapEntry<V> {
  /** At most the slot's current last-seen time. */
  key: number;
  slot: Slot<V>;
}

/** Evictions since creation, by reason. */
export interface EvictionCounts {
  idle: number;
  cap: number;
}

const before = <V>(a: HeapEntry<V>, b: HeapEntry<V>) => a.key < b.key || (a.key === b.key && a.slot.id < b.slot.id);

export class DeviceTable<V> {
  readonly #options: DeviceTableOptions<V>;
  readonly #slots = new Map<string, Slot<V>>();
  #heap: HeapEntry<V>[] = [];
  readonly evictions: EvictionCounts = { idle: 0, cap: 0 };

  constructor(options: DeviceTableOptions<V>) {
    this.#options = options;
  }

  get size(): number {
    return this.#slots.size;
  }

  get maxDevices(): number {
    return this.#options.maxDevices;
  }

  /** The device's value unless it is idle at `now` (an idle one is forgotten here and counted). */
  get(deviceId: string, now: number): V | undefined {
    const slot = this.#slots.get(deviceId);
    if (!slot) return undefined;
    if (this.#isIdle(slot.value, now)) {
      this.#evict(slot, 'idle');
      return undefined;
    }
    return slot.value;
  }

  /** The device's value, idle or not. */
  peek(deviceId: string): V | undefined {
    return this.#slots.get(deviceId)?.value;
  }

  has(deviceId: string): boolean {
    return this.#slots.has(deviceId);
  }

  /**
   * Adds or replaces a device, then applies the cap (which may evict this very device: see the module comment).
   * With `now`, devices idle by then are removed first (cheap: the heap's top tells), so that the cap counts only
   * devices that are not idle and an idle device is counted as such, not as a cap eviction.
   */
  set(deviceId: string, value: V, now = Number.NEGATIVE_INFINITY): void {
    this.evictIdle(now);
    const slot: Slot<V> = { id: deviceId, value };
    this.#slots.set(deviceId, slot);
    this.#push({ key: this.#options.lastSeenOf(value), slot });
    while (this.#slots.size > this.#options.maxDevices) {
      const top = this.#top();
      if (!top) break;
      this.#evict(top.slot, 'cap');
    }
    // Replaced and deleted slots leave stale heap entries: rebuild once they outnumber the live ones.
    if (this.#heap.length > 2 * this.#slots.size + 1024) this.#rebuild();
  }

  /** Forgets a device without counting an eviction (a tombstone, a deleted row). */
  delete(deviceId: string): boolean {
    return this.#slots.delete(deviceId);
  }

  /** Removes every device idle at `now`; returns how many. */
  evictIdle(now: number): number {
    let evicted = 0;
    for (let top = this.#top(); top && this.#isIdle(top.slot.value, now); top = this.#top()) {
      this.#evict(top.slot, 'idle');
      evicted++;
    }
    return evicted;
  }

  /** The oldest last-seen time held, or undefined when empty. */
  oldestLastSeen(): number | undefined {
    const top = this.#top();
    return top ? top.key : undefined;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [id, slot] of this.#slots) yield [id, slot.value];
  }

  *values(): IterableIterator<V> {
    for (const slot of this.#slots.values()) yield slot.value;
  }

  clear(): void {
    this.#slots.clear();
    this.#heap = [];
  }

  #isIdle(value: V, now: number): boolean {
    return this.#options.lastSeenOf(value) <= now - this.#options.idleHorizonMs;
  }

  #evict(slot: Slot<V>, reason: EvictionReason): void {
    this.#slots.delete(slot.id);
    this.evictions[reason]++;
    this.#options.onEvict?.(slot.id, slot.value, reason);
  }

  /** The live entry with the smallest (last-seen, id), its key brought up to date; stale entries are dropped. */
  #top(): HeapEntry<V> | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (!top) return undefined;
      if (this.#slots.get(top.slot.id) !== top.slot) {
        this.#pop();
        continue;
      }
      const current = this.#options.lastSeenOf(top.slot.value);
      if (current > top.key) {
        this.#pop();
        this.#push({ key: current, slot: top.slot });
        continue;
      }
      return top;
    }
  }

  #rebuild(): void {
    const heap: HeapEntry<V>[] = [];
    for (const slot of this.#slots.values()) heap.push({ key: this.#options.lastSeenOf(slot.value), slot });
    heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    this.#heap = heap; // a sorted array is a valid min-heap
  }

  #push(entry: HeapEntry<V>): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const p = heap[parent] as HeapEntry<V>;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop() as HeapEntry<V>;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as HeapEntry<V>, heap[left] as HeapEntry<V>) ? right : left;
      const c = heap[child] as HeapEntry<V>;
      if (!before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
