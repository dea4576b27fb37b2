import { ByteReader, ByteWriter } from '../codec/byte-io.js';
import { seriesKeyOf } from '../decode/series-key.js';
import type { FieldState } from './aggregate-layout.js';
import { DDSketch } from './dd-sketch.js';
import { HyperLogLog } from './hyper-log-log.js';

const MAGIC = 0x4c415031; // "LAP1"
const HAS_SKETCH = 1;
const HAS_HLL = 2;

/** Which level-1 engine produced a partial: with the series and window, it names the partial uniquely. */
export interface PartialOrigin {
  pipeline: string;
  topic: string;
  partition: number;
}

/** The mergeable state of one series over one window, as written to an intermediate topic. */
export interface WindowPartial {
  origin: PartialOrigin;
  seriesKey: string;
  keyValues: Record<string, string>;
  windowSizeMs: number;
  windowStartMs: number;
  fields: Record<string, FieldState>;
}

/**
 * Identity of a partial for level 2: a level-1 replay re-sends the same partial under the same
 * identity, and level 2 replaces (never adds) what it holds under it.
 */
export function partialIdentity(p: WindowPartial): string {
  // Joined, not concatenated: one flat string (a concatenation is a tree of ConsStrings, and a
  // level-2 window holds an identity per partial).
  return [
    p.origin.pipeline,
    p.origin.topic,
    p.origin.partition,
    p.windowSizeMs,
    p.windowStartMs,
    p.seriesKey,
  ].join('\u0000');
}

/** Kafka message key of a partial sent to the next level: the values of its `nextLevel.keyFields`. */
export function nextLevelMessageKey(keyValues: Record<string, string>, keyFields: readonly string[]): string {
  return seriesKeyOf(keyFields.map((f) => keyValues[f] ?? ''));
}

export function writeFieldState(w: ByteWriter, s: FieldState): void {
  w.u8((s.sketch ? HAS_SKETCH : 0) | (s.hll ? HAS_HLL : 0));
  w.f64(s.count).f64(s.sum).f64(s.min).f64(s.max).f64(s.lastValue).f64(s.lastTimeMs).f64(s.lastOffset);
  if (s.sketch) s.sketch.write(w);
  if (s.hll) s.hll.write(w);
}

export function readFieldState(r: ByteReader): FieldState {
  const flags = r.u8();
  r.expect((flags & ~(HAS_SKETCH | HAS_HLL)) === 0, `field flags ${flags}`);
  const s: FieldState = {
    count: r.f64(),
    sum: r.f64(),
    min: r.f64(),
    max: r.f64(),
    lastValue: r.f64(),
    lastTimeMs: r.f64(),
    lastOffset: r.f64(),
    sketch: null,
    hll: null,
  };
  r.expect(Number.isFinite(s.count) && s.count >= 0, `count ${s.count}`);
  if (flags & HAS_SKETCH) s.sketch = DDSketch.read(r);
  if (flags & HAS_HLL) s.hll = HyperLogLog.read(r);
  return s;
}

/** Reused by {@link encodePartial} (one partial at a time; each result is a copy). */
const partialWriter = new ByteWriter(4096);

export function encodePartial(p: WindowPartial): Uint8Array {
  const w = partialWriter.reset();
  w.u32(MAGIC).str(p.origin.pipeline).str(p.origin.topic).i32(p.origin.partition);
  w.str(p.seriesKey);
  const kv = Object.entries(p.keyValues);
  w.u32(kv.length);
  for (const [k, v] of kv) w.str(k).str(v);
  w.f64(p.windowSizeMs).f64(p.windowStartMs);
  const fields = Object.entries(p.fields);
  w.u32(fields.length);
  for (const [name, s] of fields) {
    w.str(name);
    writeFieldState(w, s);
  }
  return w.copy();
}

/**
 * The fields of a partial {@link decodePartial} accepted before (level 2 merging what it holds):
 * origin, series and key values are skipped, not decoded.
 */
export function decodePartialFields(bytes: Uint8Array): Record<string, FieldState> {
  const r = new ByteReader(bytes, 'partial');
  r.expect(bytes.length >= 4 && r.u32() === MAGIC, 'not a liveagg partial (bad magic)');
  r.skipBytes(); // origin pipeline
  r.skipBytes(); // origin topic
  r.i32(); // origin partition
  r.skipBytes(); // series key
  const nKv = r.u32();
  r.expect(nKv <= 64, `${nKv} key values`);
  for (let i = 0; i < 2 * nKv; i++) r.skipBytes();
  r.f64(); // window size
  r.f64(); // window start
  return readFields(r);
}

/** Decodes a partial; throws `CorruptStateError` (dead letter `bad_partial`) on anything malformed. */
export function decodePartial(bytes: Uint8Array): WindowPartial {
  const r = new ByteReader(bytes, 'partial');
  r.expect(bytes.length >= 4 && r.u32() === MAGIC, 'not a liveagg partial (bad magic)');
  const origin: PartialOrigin = { pipeline: r.str(), topic: r.str(), partition: r.i32() };
  const seriesKey = r.str();
  const nKv = r.u32();
  r.expect(nKv <= 64, `${nKv} key values`);
  const keyValues: Record<string, string> = {};
  for (let i = 0; i < nKv; i++) keyValues[r.str()] = r.str();
  const windowSizeMs = r.f64();
  const windowStartMs = r.f64();
  r.expect(Number.isInteger(windowSizeMs) && windowSizeMs > 0, `window size ${windowSizeMs}`);
  r.expect(Number.isInteger(windowStartMs), `window start ${windowStartMs}`);
  const fields = readFields(r);
  return { origin, seriesKey, keyValues, windowSizeMs, windowStartMs, fields };
}

/** A partial's fields, its last section: nothing may follow them. */
function readFields(r: ByteReader): Record<string, FieldState> {
  const nFields = r.u32();
  r.expect(nFields <= 1024, `${nFields} fields`);
  const fields: Record<string, FieldState> = {};
  for (let i = 0; i < nFields; i++) {
    const name = r.str();
    fields[name] = readFieldState(r);
  }
  r.expect(r.done(), 'trailing bytes');
  return fields;
}
