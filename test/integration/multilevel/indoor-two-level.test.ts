import type { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodePartial, partialIdentity } from '../../../aggregator/aggregates/partial-codec.js';
import {
  generateIndoorEvents,
  type IndoorEvent,
  indoorPartition,
} from '../../../examples/indoor-location/indoor-generator.js';
import {
  produceIndoorEndMarkers,
  produceIndoorEndPartials,
  produceIndoorEvents,
} from '../../../examples/indoor-location/indoor-producer.js';
import { type CliProcess, eventually, startCli } from '../helpers/cli-process.js';
import { kafkaClient, scenarioPort } from '../helpers/stack-endpoints.js';
import {
  diffRollups,
  emptyLevel2Fields,
  expectedPartials,
  type IndoorScenario,
  newIndoorScenario,
  readRollups,
  referenceLevel2,
  writeLevelConfig,
} from './indoor-scenario.js';

const running: CliProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

const MINUTE = 60_000;
/** A small world (72 zones) so zone-minutes repeat within a partition: partials are fewer than records. */
const WORLD = { orgs: 4, sitesPerOrg: 3, floorsPerSite: 2, zonesPerFloor: 3, devices: 240 };

async function schema(file: string): Promise<void> {
  expect(await startCli(['schema', 'apply', '--config', file], { name: 'indoor-schema' }).exited).toBe(0);
}

async function startWorker(file: string, adminPort: number, name: string): Promise<CliProcess> {
  const p = startCli(['worker', '--config', file], { name });
  running.push(p);
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).ok ? true : undefined),
    60_000,
    `${name} ready`,
  );
  return p;
}

async function topicMessages(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function send(kafka: Kafka, f: (p: ReturnType<Kafka['producer']>) => Promise<unknown>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await f(producer);
  } finally {
    await producer.disconnect();
  }
}

/**
 * End of input: level-1 end markers close every level-1 window; once the intermediate topic
 * holds every partial level 1 owes, end partials close every level-2 window.
 */
async function closeBothLevels(kafka: Kafka, s: IndoorScenario, events: IndoorEvent[]): Promise<number> {
  const maxTs = Math.max(...events.map((e) => e.timestamp));
  await send(kafka, (p) => produceIndoorEndMarkers(p, s.input, s.inputPartitions, maxTs + 10 * MINUTE));
  const owed = expectedPartials(events, (e) => indoorPartition(e, 'device', s.inputPartitions));
  // Count distinct partial identities, not messages: a replay's duplicates must not pass for
  // partials level 1 has not sent yet.
  const identities = new Set<string>();
  let messages = 0;
  const consumer = kafka.consumer({ groupId: `${s.groups[2]}-partials-reader` });
  await consumer.connect();
  await consumer.subscribe({ topics: [s.partials], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages++;
      if (message.value) identities.add(partialIdentity(decodePartial(message.value)));
    },
  });
  try {
    await eventually(
      async () => (identities.size >= owed ? true : undefined),
      120_000,
      `${owed} distinct level-1 partials on the intermediate topic`,
    );
  } finally {
    await consumer.disconnect();
  }
  expect(identities.size).toBe(owed);
  const fields = await emptyLevel2Fields(s);
  await send(kafka, (p) =>
    produceIndoorEndPartials(p, s.partials, s.partialPartitions, maxTs + 24 * 60 * MINUTE, fields),
  );
  return messages;
}

async function expectLevel2Exactly(s: IndoorScenario, events: IndoorEvent[]): Promise<void> {
  const expected = referenceLevel2(events);
  const actual = await eventually(
    async () => {
      const rows = await readRollups(s);
      return rows.size >= expected.size && diffRollups(rows, expected).length === 0 ? rows : undefined;
    },
    120_000,
    `${expected.size} exact level-2 rows`,
  ).catch(async (err: Error) => {
    const rows = await readRollups(s);
    throw new Error(`${err.message}; differences: ${diffRollups(rows, expected).slice(0, 10).join('; ')}`);
  });
  expect(diffRollups(actual, expected)).toEqual([]);
}

describe('two-level aggregation (indoor-location example) on real Kafka and Cassandra', () => {
  it('level-2 floor and site rollups (10 min, 1 h) equal the same rollups computed straight from the raw events', async () => {
    const kafka = kafkaClient();
    const s = await newIndoorScenario(kafka, 3, 2);
    const events = generateIndoorEvents({ seed: 5, records: 6000, ...WORLD });
    const l1 = await writeLevelConfig(s, 1, scenarioPort(1));
    const l2 = await writeLevelConfig(s, 2, scenarioPort(2));
    await Promise.all([schema(l1.file), schema(l2.file)]);
    await Promise.all([
      startWorker(l1.file, l1.adminPort, 'indoor-l1'),
      startWorker(l2.file, l2.adminPort, 'indoor-l2'),
    ]);
    await send(kafka, (p) => produceIndoorEvents(p, s.input, events, { by: 'device', partitions: 3 }));
    const partials = await closeBothLevels(kafka, s, events);
    // Level 1 reduced the stream: fewer partials than records reach level 2.
    expect(partials).toBeLessThan(events.length);
    await expectLevel2Exactly(s, events);
  }, 300_000);

  it('a level-1 worker killed mid-stream (kill -9) replays and re-sends partials; level 2 does not count them twice', async () => {
    const kafka = kafkaClient();
    const s = await newIndoorScenario(kafka, 3, 2);
    const events = generateIndoorEvents({ seed: 9, records: 6000, ...WORLD });
    // No level-1 checkpoint before the crash: the restart replays from offset 0 and re-sends
    // every partial the killed worker had already sent.
    const l1 = await writeLevelConfig(s, 1, scenarioPort(1), 600_000);
    const l2 = await writeLevelConfig(s, 2, scenarioPort(2));
    await Promise.all([schema(l1.file), schema(l2.file)]);
    let level1 = await startWorker(l1.file, l1.adminPort, 'indoor-crash-l1');
    await startWorker(l2.file, l2.adminPort, 'indoor-crash-l2');
    const half = events.length / 2;
    await send(kafka, (p) =>
      produceIndoorEvents(p, s.input, events.slice(0, half), { by: 'device', partitions: 3 }),
    );
    const before = await eventually(
      async () => {
        const n = await topicMessages(kafka, s.partials);
        return n > 100 ? n : undefined;
      },
      60_000,
      'level-1 partials before the crash',
    );
    level1.child.kill('SIGKILL');
    await level1.exited;
    await send(kafka, (p) =>
      produceIndoorEvents(p, s.input, events.slice(half), { by: 'device', partitions: 3 }),
    );
    level1 = await startWorker(l1.file, l1.adminPort, 'indoor-crash-l1-restart');
    await closeBothLevels(kafka, s, events);
    // Level 2 equals the fault-free reference exactly ...
    await expectLevel2Exactly(s, events);
    // ... although the replay re-sent every partial sent before the crash (duplicates on the topic).
    const owed = expectedPartials(events, (e) => indoorPartition(e, 'device', 3));
    expect(await topicMessages(kafka, s.partials)).toBeGreaterThanOrEqual(
      owed + before + s.partialPartitions,
    );
  }, 300_000);

  it('a level-2 worker killed mid-stream restores its checkpoint and replays: level 2 still equals the reference', async () => {
    const kafka = kafkaClient();
    const s = await newIndoorScenario(kafka, 3, 2);
    const events = generateIndoorEvents({ seed: 13, records: 6000, ...WORLD });
    const l1 = await writeLevelConfig(s, 1, scenarioPort(1));
    const l2 = await writeLevelConfig(s, 2, scenarioPort(2));
    await Promise.all([schema(l1.file), schema(l2.file)]);
    await startWorker(l1.file, l1.adminPort, 'indoor-l2crash-l1');
    let level2 = await startWorker(l2.file, l2.adminPort, 'indoor-l2crash-l2');
    const half = events.length / 2;
    await send(kafka, (p) =>
      produceIndoorEvents(p, s.input, events.slice(0, half), { by: 'device', partitions: 3 }),
    );
    // Kill level 2 once it has committed offsets, i.e. checkpointed partials it holds in open windows.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(
        async () => {
          const offsets = await admin.fetchOffsets({ groupId: s.groups[2], topics: [s.partials] });
          return offsets.some((t) => t.partitions.some((p) => Number(p.offset) > 0)) ? true : undefined;
        },
        60_000,
        'a level-2 commit',
      );
    } finally {
      await admin.disconnect();
    }
    level2.child.kill('SIGKILL');
    await level2.exited;
    await send(kafka, (p) =>
      produceIndoorEvents(p, s.input, events.slice(half), { by: 'device', partitions: 3 }),
    );
    level2 = await startWorker(l2.file, l2.adminPort, 'indoor-l2crash-l2-restart');
    await closeBothLevels(kafka, s, events);
    await expectLevel2Exactly(s, events);
  }, 300_000);

  it('a malformed partial on the intermediate topic goes to the dead-letter topic as bad_partial', async () => {
    const kafka = kafkaClient();
    const s = await newIndoorScenario(kafka, 1, 1);
    const l2 = await writeLevelConfig(s, 2, scenarioPort(3));
    await schema(l2.file);
    await startWorker(l2.file, l2.adminPort, 'indoor-bad-partial');
    await send(kafka, (p) =>
      p.send({
        topic: s.partials,
        acks: -1,
        messages: [
          { key: 'org-0-site-0', value: '{"not":"a partial"}' },
          { key: 'org-0-site-0', value: Buffer.from([0x4c, 0x41, 0x50, 0x31, 0xff]) },
        ],
      }),
    );
    const consumer = kafka.consumer({ groupId: `${s.groups[2]}-dlq-reader` });
    const letters: { reason: string; pipeline: string; topic: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [s.dlq], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void letters.push({
          reason: String(message.headers?.['la-reason']),
          pipeline: String(message.headers?.['la-pipeline']),
          topic: String(message.headers?.['la-source-topic']),
        }),
    });
    // Both level-2 pipelines read the topic: each refuses both messages.
    await eventually(async () => (letters.length >= 4 ? true : undefined), 60_000, '4 dead letters');
    await consumer.disconnect();
    expect(new Set(letters.map((l) => l.reason))).toEqual(new Set(['bad_partial']));
    expect(new Set(letters.map((l) => l.topic))).toEqual(new Set([s.partials]));
    expect(letters.map((l) => l.pipeline).sort()).toEqual([
      'indoor-floor',
      'indoor-floor',
      'indoor-site',
      'indoor-site',
    ]);
  }, 180_000);
});
