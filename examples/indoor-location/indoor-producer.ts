import type { Producer } from 'kafkajs';
import type { FieldState } from '../../aggregator/aggregates/aggregate-layout.js';
import { encodePartial } from '../../aggregator/aggregates/partial-codec.js';
import { seriesKeyOf } from '../../aggregator/decode/series-key.js';
import { type IndoorEvent, type IndoorPartitionKey, indoorPartition } from './indoor-generator.js';

/** The slice of a kafkajs producer this module uses. */
export type EventSender = Pick<Producer, 'send'>;

export interface ProduceIndoorOptions {
  /** Input topic key: `device` (two-level layout) or `site` (single level straight to site). */
  by: IndoorPartitionKey;
  partitions: number;
  /** Messages per send (in event order, across partitions, so partitions advance together). */
  batch?: number;
}

/**
 * Sends events in their order to explicit partitions (FNV-1a of the key, the same in every
 * process), so a test knows which partition holds what. Returns the record count per partition.
 */
export async function produceIndoorEvents(
  producer: EventSender,
  topic: string,
  events: readonly IndoorEvent[],
  opts: ProduceIndoorOptions,
): Promise<number[]> {
  const counts = new Array<number>(opts.partitions).fill(0);
  const batch = opts.batch ?? 1000;
  for (let i = 0; i < events.length; i += batch) {
    const messages = events.slice(i, i + batch).map((e) => {
      const partition = indoorPartition(e, opts.by, opts.partitions);
      counts[partition]! += 1;
      return { key: opts.by === 'device' ? e.device : e.site, partition, value: JSON.stringify(e) };
    });
    await producer.send({ topic, acks: -1, messages });
  }
  return counts;
}

/** Series that end markers use (`__end…`): not part of any result a reader should count. */
export const END_MARKER_PREFIX = '__end';

/**
 * One far-future event per partition: its event time moves every partition watermark past
 * `atMs`, closing all earlier windows (a test's or a bench's "end of input").
 */
export async function produceIndoorEndMarkers(
  producer: EventSender,
  topic: string,
  partitions: number,
  atMs: number,
): Promise<void> {
  const messages = Array.from({ length: partitions }, (_, p) => {
    const e: IndoorEvent = {
      org: END_MARKER_PREFIX,
      site: `${END_MARKER_PREFIX}-site-${p}`,
      floor: `${END_MARKER_PREFIX}-floor-${p}`,
      zone: `${END_MARKER_PREFIX}-zone-${p}`,
      device: `${END_MARKER_PREFIX}-dev-${p}`,
      timestamp: atMs,
      x: 0,
      y: 0,
      rssi: -100,
    };
    return { key: e.device, partition: p, value: JSON.stringify(e) };
  });
  await producer.send({ topic, acks: -1, messages });
}

/**
 * One far-future partial per intermediate-topic partition: level 2's watermark is the newest
 * partial window it has seen in that partition, so this closes every level-2 window before
 * `atMs` (send it after level 1 has written all its partials). `fields` are the empty states
 * of the level-2 pipeline's aggregated fields (count 0: merging them changes nothing).
 */
export async function produceIndoorEndPartials(
  producer: EventSender,
  topic: string,
  partitions: number,
  atMs: number,
  fields: Record<string, FieldState>,
): Promise<void> {
  const messages = Array.from({ length: partitions }, (_, p) => {
    const keyValues = {
      org: END_MARKER_PREFIX,
      site: `${END_MARKER_PREFIX}-site-${p}`,
      floor: `${END_MARKER_PREFIX}-floor-${p}`,
      zone: `${END_MARKER_PREFIX}-zone-${p}`,
    };
    const partial = encodePartial({
      origin: { pipeline: END_MARKER_PREFIX, topic, partition: p },
      seriesKey: seriesKeyOf(Object.values(keyValues)),
      keyValues,
      windowSizeMs: 60_000,
      windowStartMs: atMs - (atMs % 60_000),
      fields,
    });
    return { key: keyValues.site, partition: p, value: Buffer.from(partial) };
  });
  await producer.send({ topic, acks: -1, messages });
}
