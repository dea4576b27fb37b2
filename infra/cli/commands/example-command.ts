import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  defaultIndoorOptions,
  generateIndoorEvents,
  type IndoorPartitionKey,
} from '../../../examples/indoor-location/indoor-generator.js';
import {
  produceIndoorEndMarkers,
  produceIndoorEvents,
} from '../../../examples/indoor-location/indoor-producer.js';
import { loadConfig } from '../../config/load-config.js';
import { createKafka } from '../../kafka/kafka-client.js';
import { createLogger } from '../../log/logger.js';
import { printJson, progress } from '../output.js';

function positiveInt(what: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${v} is not a positive integer (${what})`);
    return n;
  };
}

interface ProduceOptions {
  topic: string;
  records: number;
  seed: number;
  by: IndoorPartitionKey;
  partitions: number;
  devices: number;
  durationMinutes: number;
  endMarker?: boolean;
  config?: string;
  json?: boolean;
}

/** `liveagg example indoor-location produce`: the example's skewed events into a Kafka topic. */
export function registerExampleCommand(program: Command): void {
  const indoor = program
    .command('example')
    .description('Data generators of the shipped examples (examples/).')
    .command('indoor-location')
    .description(
      'Indoor location events: org, site, floor, zone, device, position, rssi (examples/indoor-location).',
    );
  indoor
    .command('produce')
    .description(
      'produce deterministic skewed events (one big org, one hot site) to a topic, at explicit partitions (created if missing)',
    )
    .requiredOption('--topic <name>', 'input topic')
    .option('--records <n>', 'events to produce', positiveInt('records'), 100_000)
    .option('--seed <n>', 'generator seed (same seed, same events)', positiveInt('seed'), 1)
    .addOption(
      new Option('--by <key>', 'partition key: device (two-level layout) or site (single level)')
        .choices(['device', 'site'])
        .default('device'),
    )
    .option('--partitions <n>', 'partitions when the topic is created', positiveInt('partitions'), 4)
    .option('--devices <n>', 'devices in the world', positiveInt('devices'), defaultIndoorOptions.devices)
    .option(
      '--duration-minutes <n>',
      'event-time span of the events, from 2026-11-26 09:00 UTC',
      positiveInt('duration-minutes'),
      defaultIndoorOptions.durationMs / 60_000,
    )
    .option('--end-marker', 'then one far-future event per partition, closing every window')
    .option('-c, --config <file>', 'config file (YAML) for the kafka connection; default: the local stack')
    .option('--json', 'print only the JSON document on stdout')
    .action(async (opts: ProduceOptions) => {
      const cfg = await loadConfig(opts.config);
      const kafka = createKafka(cfg.kafka, createLogger('example'));
      const admin = kafka.admin();
      await admin.connect();
      let partitions: number;
      try {
        const existing = await admin.listTopics();
        if (!existing.includes(opts.topic)) {
          await admin.createTopics({
            topics: [{ topic: opts.topic, numPartitions: opts.partitions, replicationFactor: 1 }],
            waitForLeaders: true,
          });
        }
        const meta = await admin.fetchTopicMetadata({ topics: [opts.topic] });
        partitions = meta.topics[0]?.partitions.length ?? opts.partitions;
      } finally {
        await admin.disconnect();
      }
      const events = generateIndoorEvents({
        seed: opts.seed,
        records: opts.records,
        devices: opts.devices,
        durationMs: opts.durationMinutes * 60_000,
      });
      progress(
        `producing ${events.length} events to ${opts.topic} (${partitions} partitions, keyed by ${opts.by})`,
      );
      const producer = kafka.producer();
      await producer.connect();
      const started = Date.now();
      let perPartition: number[];
      try {
        perPartition = await produceIndoorEvents(producer, opts.topic, events, { by: opts.by, partitions });
        if (opts.endMarker) {
          const last = Math.max(...events.map((e) => e.timestamp));
          await produceIndoorEndMarkers(producer, opts.topic, partitions, last + 10 * 60_000);
        }
      } finally {
        await producer.disconnect();
      }
      const doc = {
        topic: opts.topic,
        records: events.length,
        seed: opts.seed,
        by: opts.by,
        partitions,
        recordsPerPartition: perPartition,
        endMarker: opts.endMarker === true,
        seconds: (Date.now() - started) / 1000,
      };
      if (opts.json) printJson(doc);
      else process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    });
}
