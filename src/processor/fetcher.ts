/**
 * Direct fetches by topic-partition and offset, below the client's MessagesStream. The processor needs what
 * the stream hides: each partition's high watermark (to tell "the other side has data on the way" from "the
 * other side is idle" in the event-time merge), exact positions to resume from a checkpoint, and no buffered
 * records left over from revoked partitions after a rebalance.
 */
import type { Consumer, FetchOptions } from '@platformatic/kafka';

type FetchRequestTopic = FetchOptions<Buffer, Buffer, Buffer, Buffer>['topics'][number];

const IS_CONTROL = 1 << 5;

export interface FetchedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  records: FetchedRecord[];
  /** Offset to fetch next (past control batches too). */
  nextOffset: number;
  highWatermark: number;
  errorCode: number;
}

export interface FetchLimits {
  maxWaitMs: number;
  maxBytes: number;
  partitionMaxBytes: number;
}

export type PartitionPosition = { topic: string; partition: number; offset: number };

/** One fetch round over the given positions, grouped by leader. */
export async function fetchPartitions(
  consumer: Consumer,
  positions: PartitionPosition[],
  limits: FetchLimits,
): Promise<FetchedPartition[]> {
  if (positions.length === 0) return [];
  const topicNames = [...new Set(positions.map((p) => p.topic))];
  const metadata = await consumer.metadata({ topics: topicNames });
  const byLeader = new Map<number, FetchRequestTopic[]>();
  const names = new Map<string, string>();
  for (const { topic, partition, offset } of positions) {
    const info = metadata.topics.get(topic);
    const leader = info?.partitions[partition]?.leader;
    if (!info || leader === undefined) throw new Error(`no leader known for ${topic}/${partition}`);
    names.set(info.id, topic);
    let requests = byLeader.get(leader);
    if (!requests) {
      requests = [];
      byLeader.set(leader, requests);
    }
    requests.push({
      topicId: info.id,
      partitions: [
        {
          partition,
          fetchOffset: BigInt(offset),
          partitionMaxBytes: limits.partitionMaxBytes,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
        },
      ],
    });
  }
  const wanted = new Map(positions.map((p) => [`${p.topic}:${p.partition}`, p.offset]));
  const responses = await Promise.all(
    [...byLeader].map(([node, topics]) =>
      consumer.fetch({ node, topics, maxWaitTime: limits.maxWaitMs, minBytes: 1, maxBytes: limits.maxBytes }),
    ),
  );
  const out: FetchedPartition[] = [];
  for (const response of responses) {
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId);
      if (!topic) continue;
      for (const p of topicResponse.partitions) {
        const from = wanted.get(`${topic}:${p.partitionIndex}`) ?? 0;
        const fetched: FetchedPartition = {
          topic,
          partition: p.partitionIndex,
          records: [],
          nextOffset: from,
          highWatermark: Number(p.highWatermark),
          errorCode: p.errorCode,
        };
        for (const batch of p.records ?? []) {
          const last = Number(batch.firstOffset) + batch.lastOffsetDelta;
          if (last + 1 > fetched.nextOffset) fetched.nextOffset = last + 1;
          if (batch.attributes & IS_CONTROL) continue;
          const firstOffset = Number(batch.firstOffset);
          const firstTimestamp = Number(batch.firstTimestamp);
          for (const record of batch.records) {
            const offset = firstOffset + record.offsetDelta;
            // A fetch returns whole batches: skip what precedes the requested offset.
            if (offset < from) continue;
            fetched.records.push({
              offset,
              timestamp: firstTimestamp + Number(record.timestampDelta),
              key: record.key,
              value: record.value,
            });
          }
        }
        out.push(fetched);
      }
    }
  }
  return out;
}

/** First and next-to-write offsets of a partition. */
export async function partitionBounds(
  consumer: Consumer,
  topic: string,
  partition: number,
): Promise<{ start: number; end: number }> {
  const [earliest, latest] = await Promise.all([
    consumer.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp: -2n }),
    consumer.listOffsets({ topics: [topic], partitions: { [topic]: [partition] }, timestamp: -1n }),
  ]);
  return {
    start: Number(earliest.get(topic)?.[partition] ?? 0n),
    end: Number(latest.get(topic)?.[partition] ?? 0n),
  };
}

/** Every record of one partition from its start to its end at the time of the call. */
export async function readWholePartition(
  consumer: Consumer,
  topic: string,
  partition: number,
  limits: FetchLimits,
): Promise<FetchedRecord[]> {
  const { start, end } = await partitionBounds(consumer, topic, partition);
  const records: FetchedRecord[] = [];
  let offset = start;
  while (offset < end) {
    const [fetched] = await fetchPartitions(consumer, [{ topic, partition, offset }], limits);
    if (!fetched) break;
    if (fetched.errorCode !== 0) throw new Error(`fetch ${topic}/${partition} failed with error ${fetched.errorCode}`);
    for (const r of fetched.records) if (r.offset < end) records.push(r);
    offset = fetched.nextOffset;
  }
  return records;
}
