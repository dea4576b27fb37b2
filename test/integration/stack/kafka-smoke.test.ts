import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTopic, kafkaClient, uniqueName } from '../helpers/stack-endpoints.js';

const kafka = kafkaClient();
const admin = kafka.admin();
await admin.connect();
afterAll(async () => {
  await admin.disconnect();
});

describe('Kafka on the local stack (kafkajs)', () => {
  it('produces to two partitions, consumes with a consumer group and commits offsets that admin reads back', async () => {
    const topic = await createTopic(kafka, 2);
    const producer = kafka.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    const messages = Array.from({ length: 10 }, (_, i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: i % 2,
    }));
    await producer.send({ topic, messages });

    const groupId = uniqueName('la-test-group');
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    onTestFinished(() => consumer.disconnect());
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen: string[] = [];
    const allSeen = new Promise<void>((resolveAll, rejectAll) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            seen.push(message.value?.toString() ?? '');
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            if (seen.length === messages.length) resolveAll();
          },
        })
        .catch(rejectAll);
    });
    await allSeen;
    expect(seen.sort()).toEqual(messages.map((m) => m.value).sort());

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const partitions = offsets.find((o) => o.topic === topic)?.partitions ?? [];
    expect(partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '5'],
      [1, '5'],
    ]);
    const groups = await admin.describeGroups([groupId]);
    expect(groups.groups[0]?.state).toBe('Stable');
  });
});
