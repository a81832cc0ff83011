/**
 * The stream layer: the engine's live outputs (ksqlDB's tables `DEVICE_WINAGG_STATUS_PER2S` and
 * `DEVICE_WINAGG_STATUS_PERDEVICE`) as the API reads them. Two adapters implement it:
 *
 * - `embedded`: materializes the processor's output topics in this process (every partition, from the start),
 *   so any API instance answers for every device;
 * - `ksqldb`: pull queries against ksqlDB's `/query-stream`, plus one push query per instance for the change feed.
 *
 * Rows use the lower-case schemas of `core/results.ts`, identical to the warehouse's.
 */

import type { DeviceLatest, WindowAggregate } from '../core/results.js';
import type { Component } from '../lifecycle.js';
import type { MetricsSource } from '../observability/metrics.js';

/** One change of the stream layer's state, in the order the engine produced it. */
export type StreamChange =
  | { kind: 'latest'; deviceId: string; row: DeviceLatest | null }
  | { kind: 'window'; deviceId: string; row: WindowAggregate };

export type StreamChangeListener = (change: StreamChange) => void;

export interface WindowQuery {
  deviceId: string;
  /** 1–1000, already validated by the caller. */
  limit: number;
}

export interface StreamLayer extends Component, MetricsSource {
  readonly engine: 'embedded' | 'ksqldb';
  /** The newest `limit` 2-second windows of one device, newest first; `[]` for an unknown device. */
  listWindows(query: WindowQuery): Promise<WindowAggregate[]>;
  /** The latest state of every device, ordered by device id. */
  listLatest(): Promise<DeviceLatest[]>;
  /**
   * The change feed (one upstream feed per instance): every listener sees every change after it subscribed.
   * Listeners must not throw or block. Returns the unsubscribe function.
   */
  onChange(listener: StreamChangeListener): () => void;
  /** Readiness: resolves when the layer serves complete answers; throws an `AppError` naming the problem. */
  check(): Promise<void>;
}
