/**
 * What the HTTP layer and the components receive from the composition root (`app.ts`); nothing in `api/` imports
 * a connection or the root itself. Types only.
 */
import type { Admin } from '@platformatic/kafka';
import type { KafkaConnection } from './bus/kafka-admin.js';
import type { Config } from './config.js';
import type { AlertRules } from './core/alerts/alert-rules.js';
import type { ReadinessCheck } from './lifecycle.js';
import type { AlertFeed } from './live/alert-feed.js';
import type { Broadcaster } from './live/broadcaster.js';
import type { Logger } from './observability/logger.js';
import type { MetricsSource } from './observability/metrics.js';
import type { SimulatorController } from './simulators/simulator-controller.js';
import type { Sql } from './sink/database.js';
import type { StreamLayer } from './stream-layer/stream-layer.js';
import type { WarehouseReader } from './warehouse-reader/warehouse-reader.js';

export interface Services {
  config: Config;
  logger: Logger;
  sql: Sql;
  kafka: KafkaConnection;
  admin: Admin;
  readiness: ReadinessCheck[];
  /** Device simulators controlled by `/simulate` (one run at a time). */
  simulator: SimulatorController;
  /** The engine's live outputs (embedded materialization or ksqlDB), read by `/stream/raw` and `/stream/latest`. */
  streamLayer: StreamLayer;
  /** Fans stream-layer changes out to SSE clients: one upstream feed per instance. */
  broadcaster: Broadcaster;
  /** The active alerts and their changes, from `device_alerts` (`/alerts/active`, `/alerts/events`). */
  alerts: AlertFeed;
  /** The rules the alert component judges by (`/alerts/rules`). */
  alertRules: AlertRules;
  /** Reads the warehouse tables for `/stream/postgresql/*` and `/alerts`. */
  warehouse: WarehouseReader;
  /** Rendered by `/metrics`; each component adds its `MetricsSource` here. */
  metrics: MetricsSource[];
}
