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
  ])('rejects %s with a reason naming the problem', (raw, reason) => {
    const r = decodeLocation(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('rejects an empty value', () => {
    expect(decodeLocation(null)).toEqual({ ok: false, reason: 'empty value' });
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
});
