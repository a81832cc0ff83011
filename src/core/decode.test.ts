import { describe, expect, it } from 'vitest';
import { decodeLocation, decodeStatus } from './decode.js';

describe('decodeLocation', () => {
  it('matches field names case-insensitively, first match wins', () => {
    const r = decodeLocation('{"Latitude":9,"LONGITUDE":107,"event_TS":5,"id":"a","Device_Id":"d","latitude":1}');
    expect(r).toEqual({ ok: true, event: { id: 'a', deviceId: 'd', latitude: 9, longitude: 107, eventTs: 5 } });
  });

  it.each([
    ['not json', 'value is not JSON'],
    ['[1]', 'value is not a JSON object'],
    ['{"latitude":9,"longitude":107,"id":"a","device_id":"d"}', 'event_ts'],
    ['{"latitude":9,"longitude":107,"event_ts":-1,"id":"a","device_id":"d"}', 'event_ts'],
    ['{"latitude":9,"longitude":107,"event_ts":"5","id":"a","device_id":"d"}', 'event_ts'],
    ['{"latitude":9,"longitude":107,"event_ts":5,"id":"a"}', 'device_id'],
    ['{"latitude":"9","longitude":107,"event_ts":5,"id":"a","device_id":"d"}', 'latitude'],
    ['{"latitude":9,"event_ts":5,"id":"a","device_id":"d"}', 'longitude'],
    ['{"latitude":9,"longitude":107,"event_ts":5,"id":7,"device_id":"d"}', 'id: expected a string'],
    ['{"latitude":90.5,"longitude":107,"event_ts":5,"id":"a","device_id":"d"}', 'latitude: expected decimal degrees'],
    ['{"latitude":9,"longitude":-180.01,"event_ts":5,"id":"a","device_id":"d"}', 'longitude: expected decimal'],
    ['{"latitude":9,"longitude":107,"event_ts":5,"id":"a","device_id":"-dev"}', 'device_id: expected a letter'],
    ['{"latitude":9,"longitude":107,"event_ts":5,"id":"a","device_id":"dev 1"}', 'device_id: expected a letter'],
  ])('rejects %s with a reason naming the problem', (raw, reason) => {
    const r = decodeLocation(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('rejects an empty value', () => {
    expect(decodeLocation(null)).toEqual({ ok: false, reason: 'empty value' });
  });

  it('reads a missing or null id as null, as ksqlDB does', () => {
    for (const raw of [
      '{"latitude":9,"longitude":107,"event_ts":5,"device_id":"d"}',
      '{"id":null,"latitude":9,"longitude":107,"event_ts":5,"device_id":"d"}',
    ]) {
      expect(decodeLocation(raw)).toEqual({
        ok: true,
        event: { id: null, deviceId: 'd', latitude: 9, longitude: 107, eventTs: 5 },
      });
    }
  });

  it('accepts the coordinate bounds themselves and device ids of exactly 128 characters', () => {
    const id = `d${'x'.repeat(127)}`;
    const r = decodeLocation(JSON.stringify({ latitude: -90, longitude: 180, event_ts: 5, id: 'a', device_id: id }));
    expect(r.ok).toBe(true);
  });

  it('refuses a 400 kB device id without echoing it', () => {
    const id = 'd'.repeat(400_000);
    const r = decodeLocation(JSON.stringify({ latitude: 9, longitude: 107, event_ts: 5, id: 'a', device_id: id }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain('(400000 characters)');
      expect(r.reason.length).toBeLessThan(200);
    }
  });
});

describe('decodeStatus', () => {
  it('keeps missing or null sensor values as null', () => {
    const r = decodeStatus(Buffer.from('{"sound":null,"event_ts":7,"device_id":"d"}'));
    expect(r).toEqual({
      ok: true,
      event: { id: null, deviceId: 'd', sound: null, temperature: null, altitude: null, eventTs: 7 },
    });
  });

  it('rejects a sensor value that is not a number', () => {
    const r = decodeStatus('{"temperature":"hot","event_ts":7,"device_id":"d"}');
    expect(r).toEqual({ ok: false, reason: 'temperature: expected a number or null' });
  });

  it('rejects sensor values beyond ±1e9, which are not readings and would overflow window sums', () => {
    expect(decodeStatus('{"sound":1e308,"event_ts":7,"device_id":"d"}')).toEqual({
      ok: false,
      reason: 'sound: beyond ±1000000000, not a reading',
    });
    expect(decodeStatus('{"altitude":-1000000001,"event_ts":7,"device_id":"d"}').ok).toBe(false);
    expect(decodeStatus('{"altitude":-1000000000,"sound":1e9,"event_ts":7,"device_id":"d"}').ok).toBe(true);
  });
});
