import { describe, expect, it } from 'vitest';
import { parseTimeParam } from '../api/schemas/common.js';
import {
  decodeAlertCursor,
  decodeCursor,
  encodeAlertCursor,
  encodeCursor,
  InvalidCursorError,
} from './warehouse-reader.js';

describe('history cursors and time parameters', () => {
  it('round-trips a cursor for its device only', () => {
    const cursor = encodeCursor('dev-1', 1_772_288_702_000);
    expect(decodeCursor(cursor, 'dev-1')).toBe(1_772_288_702_000);
    expect(() => decodeCursor(cursor, 'dev-2')).toThrow(InvalidCursorError);
    expect(() => decodeCursor('%%%', 'dev-1')).toThrow(InvalidCursorError);
    expect(() => decodeCursor(Buffer.from('{"d":"dev-1","w":"x"}').toString('base64url'), 'dev-1')).toThrow(
      InvalidCursorError,
    );
  });

  it('round-trips an alert cursor for the same filter only, in any order of its values', () => {
    const position = { openedAt: 1_772_288_702_000, alertId: 'dev-1/inactive/-/1772288702000' };
    const cursor = encodeAlertCursor({ deviceIds: ['dev-1', 'dev-2'], types: ['inactive'] }, position);
    expect(decodeAlertCursor(cursor, { deviceIds: ['dev-2', 'dev-1', 'dev-2'], types: ['inactive'] })).toEqual(
      position,
    );
    expect(() => decodeAlertCursor(cursor, { deviceIds: ['dev-1'], types: ['inactive'] })).toThrow(InvalidCursorError);
    expect(() =>
      decodeAlertCursor(cursor, { deviceIds: ['dev-1', 'dev-2'], types: ['inactive'], status: 'active' }),
    ).toThrow(InvalidCursorError);
    expect(() => decodeAlertCursor(cursor, {})).toThrow(InvalidCursorError);
    const unfiltered = encodeAlertCursor({}, position);
    expect(decodeAlertCursor(unfiltered, { deviceIds: [], types: [] })).toEqual(position);
    expect(() => decodeAlertCursor('%%%', {})).toThrow(InvalidCursorError);
    expect(() => decodeAlertCursor(Buffer.from('null').toString('base64url'), {})).toThrow(InvalidCursorError);
    expect(() => decodeAlertCursor(encodeCursor('dev-1', 1), {})).toThrow(InvalidCursorError);
  });

  it('accepts epoch milliseconds and ISO 8601, nothing else', () => {
    expect(parseTimeParam('1772288702000')).toBe(1_772_288_702_000);
    expect(parseTimeParam('2026-02-28T14:25:02Z')).toBe(Date.parse('2026-02-28T14:25:02Z'));
    expect(parseTimeParam('2026-02-28')).toBe(Date.parse('2026-02-28'));
    expect(parseTimeParam('yesterday')).toBeUndefined();
    expect(parseTimeParam('12:00')).toBeUndefined();
    expect(parseTimeParam('2026-13-45T99:00:00Z')).toBeUndefined();
  });
});
