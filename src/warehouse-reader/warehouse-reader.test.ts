import { describe, expect, it } from 'vitest';
import { parseTimeParam } from '../api/schemas/common.js';
import { decodeCursor, encodeCursor, InvalidCursorError } from './warehouse-reader.js';

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

  it('accepts epoch milliseconds and ISO 8601, nothing else', () => {
    expect(parseTimeParam('1772288702000')).toBe(1_772_288_702_000);
    expect(parseTimeParam('2026-02-28T14:25:02Z')).toBe(Date.parse('2026-02-28T14:25:02Z'));
    expect(parseTimeParam('2026-02-28')).toBe(Date.parse('2026-02-28'));
    expect(parseTimeParam('yesterday')).toBeUndefined();
    expect(parseTimeParam('12:00')).toBeUndefined();
    expect(parseTimeParam('2026-13-45T99:00:00Z')).toBeUndefined();
  });
});
