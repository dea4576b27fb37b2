import type { Admin } from 'kafkajs';

/** How far a consumer group's committed offsets trail the end of a topic, per partition. */
export interface GroupLag {
  /** Records not yet committed by the group, over every partition. */
  total: number;
  /** Partitions with records the group has not committed. */
  behind: { partition: number; lag: number }[];
}

/**
 * The group's committed offsets against the topic's end offsets. Workers commit only after a durable checkpoint, and
 * a checkpoint waits for the sink writes before it, so a lag of 0 means every record produced is in the sink.
 */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<GroupLag> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map<number, number>();
  for (const t of committed) for (const p of t.partitions) done.set(p.partition, Number(p.offset));
  const behind: { partition: number; lag: number }[] = [];
  let total = 0;
  for (const e of ends) {
    const c = done.get(e.partition) ?? -1;
    const lag = Number(e.high) - Math.max(c, Number(e.low));
    if (lag > 0) {
      behind.push({ partition: e.partition, lag });
      total += lag;
    }
  }
  return { total, behind: behind.sort((a, b) => a.partition - b.partition) };
}
