import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { copartitionedAssigner } from './assigner.js';

const metadata = (partitions: number) =>
  ({
    topics: new Map([
      ['loc', { partitionsCount: partitions }],
      ['sta', { partitionsCount: partitions }],
    ]),
  }) as unknown as ClusterMetadata;

const members = (...ids: string[]) =>
  new Map<string, ExtendedGroupProtocolSubscription>(ids.map((memberId) => [memberId, { memberId, version: 0 }]));

describe('copartitionedAssigner', () => {
  it('gives partition p of every topic to the same member and spreads partitions over members', () => {
    const result = copartitionedAssigner('m1', members('m2', 'm1'), new Set(['loc', 'sta']), metadata(5));
    const of = (memberId: string, topic: string) =>
      result.find((r) => r.memberId === memberId)?.assignments.get(topic)?.partitions;
    expect(of('m1', 'loc')).toEqual([0, 2, 4]);
    expect(of('m1', 'sta')).toEqual([0, 2, 4]);
    expect(of('m2', 'loc')).toEqual([1, 3]);
    expect(of('m2', 'sta')).toEqual([1, 3]);
  });

  it('leaves extra members without partitions', () => {
    const result = copartitionedAssigner('a', members('a', 'b', 'c'), new Set(['loc', 'sta']), metadata(2));
    expect(result.find((r) => r.memberId === 'c')?.assignments.size).toBe(0);
  });
});
