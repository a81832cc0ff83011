import { describe, expect, it } from 'vitest';
import { ageReason, futureReason, keyReason } from './admission.js';

describe('keyReason', () => {
  it('accepts a record keyed by its device id', () => {
    expect(keyReason('dev-1', 'dev-1')).toBeNull();
  });

  it('names the device id and what the key was instead', () => {
    expect(keyReason(null, 'dev-1')).toBe('key: expected the record key to equal device_id "dev-1", got no key');
    expect(keyReason('dev-2', 'dev-1')).toBe(
      'key: expected the record key to equal device_id "dev-1", got key "dev-2"',
    );
    expect(keyReason('k'.repeat(500), 'dev-1')?.length).toBeLessThan(200);
  });
});

describe('futureReason', () => {
  it('accepts a lead up to the limit, inclusive', () => {
    expect(futureReason(1_030_000, 1_000_000, 30_000)).toBeNull();
    expect(futureReason(900_000, 1_000_000, 30_000)).toBeNull();
  });

  it('refuses a record beyond the limit, naming the lead and the setting', () => {
    expect(futureReason(1_030_001, 1_000_000, 30_000)).toBe(
      "event_ts: 30001 ms ahead of the processor's clock (at most 30000 ms, PROCESSOR_MAX_FUTURE_MS)",
    );
  });
});

describe('ageReason', () => {
  it('accepts anything before the first record of a partition and anything within the limit', () => {
    expect(ageReason(0, Number.NEGATIVE_INFINITY, 1000)).toBeNull();
    expect(ageReason(5000, 6000, 1000)).toBeNull();
    expect(ageReason(7000, 6000, 1000)).toBeNull();
  });

  it('refuses a record older than the limit behind stream time; Infinity turns the rule off', () => {
    expect(ageReason(4999, 6000, 1000)).toBe(
      'event_ts: 1001 ms older than the newest event of its partition (at most 1000 ms, PROCESSOR_MAX_EVENT_AGE_MS)',
    );
    expect(ageReason(0, 1_796_000_000_000, Number.POSITIVE_INFINITY)).toBeNull();
  });
});
