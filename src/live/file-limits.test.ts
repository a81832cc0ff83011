import { describe, expect, it } from 'vitest';
import { openFileLimit, sseClientCap } from './file-limits.js';

const limits = (soft: string) =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    `Max open files            ${soft.padEnd(21)}20000                files     `,
  ].join('\n');

describe('openFileLimit', () => {
  it("reads the soft limit from the kernel's table", () => {
    expect(openFileLimit(() => limits('1024'))).toBe(1024);
    expect(openFileLimit(() => limits('unlimited'))).toBeUndefined();
    expect(
      openFileLimit(() => {
        throw new Error('no /proc');
      }),
    ).toBeUndefined();
  });

  it('reads this process on Linux', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('sseClientCap', () => {
  it('leaves a quarter of the limit, at least 512 descriptors, for everything else', () => {
    expect(sseClientCap(10_000, 1024)).toBe(512);
    expect(sseClientCap(10_000, 20_000)).toBe(10_000);
    expect(sseClientCap(20_000, 20_000)).toBe(15_000);
    expect(sseClientCap(10_000, 256)).toBe(1);
    expect(sseClientCap(300, undefined)).toBe(300);
  });
});
