/**
 * One source partition of the alert component: the detector of its devices (`core/alerts/alert-detector.ts`),
 * fed by the task's event-time merge, with the time its inactivity timer judges by.
 *
 * Time: while the partition lags, the largest event time of the location fixes processed (silence is about fixes:
 * in a backlog the merge may let statuses run seconds ahead of the fixes, which must not make every device look
 * silent), so a backlog caught up after a restart raises exactly the silences that the fixes show, never one per
 * device for the downtime; once it is caught up (nothing queued, nothing more on the broker), also the wall clock
 * less `latenessMs`, so a device that stops is noticed with no further event from anyone.
 */
import { AlertDetector, type AlertDetectorBounds, type DeviceAlertState } from '../core/alerts/alert-detector.js';
import type { AlertRecord } from '../core/alerts/alert-record.js';
import type { AlertRules } from '../core/alerts/alert-rules.js';
import type { LocationEvent, StatusEvent } from '../core/decode.js';
import { NO_STREAM_TIME } from '../core/stream-time.js';
import type { EventProcessor } from '../processor/task.js';

export class AlertPartition implements EventProcessor {
  readonly detector: AlertDetector;
  /** Alert changes since the last `drain()`, in order. */
  #changes: AlertRecord[] = [];
  #streamTime = NO_STREAM_TIME;
  /** The largest event time of the fixes processed: what the inactivity timer judges by while lagging. */
  #fixTime = NO_STREAM_TIME;
  recordsProcessed = 0;

  constructor(rules: AlertRules, bounds?: AlertDetectorBounds) {
    this.detector = new AlertDetector(rules, (alert) => this.#changes.push(alert), bounds);
  }

  get streamTime(): number {
    return this.#streamTime;
  }

  processLocation(event: LocationEvent, offset: number): void {
    this.recordsProcessed++;
    this.#streamTime = Math.max(this.#streamTime, event.eventTs);
    this.#fixTime = Math.max(this.#fixTime, event.eventTs);
    this.detector.processLocation(event, offset);
  }

  processStatus(event: StatusEvent, offset: number): void {
    this.recordsProcessed++;
    this.#streamTime = Math.max(this.#streamTime, event.eventTs);
    this.detector.processStatus(event, offset);
  }

  /** Moves the inactivity timer: the fixes' time, or (caught up) at least the wall clock less the lateness. */
  advance(caughtUp: boolean, now: number, latenessMs: number): void {
    const time = caughtUp ? Math.max(this.#fixTime, now - latenessMs) : this.#fixTime;
    if (time !== NO_STREAM_TIME) this.detector.advanceTime(time);
  }

  restore(states: DeviceAlertState[]): void {
    const now = AlertDetector.newestTime(states);
    for (const state of states) this.detector.restore(state, now);
  }

  /** The alert changes, the device states changed and the devices forgotten since the last call. */
  drain(): { alerts: AlertRecord[]; states: DeviceAlertState[]; forgotten: string[] } {
    const alerts = this.#changes;
    this.#changes = [];
    return { alerts, states: this.detector.takeChanged(), forgotten: this.detector.takeForgotten() };
  }

  get pending(): number {
    return this.#changes.length;
  }
}
