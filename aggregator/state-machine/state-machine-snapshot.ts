/**
 * Binary snapshot of one state-machine table (little-endian):
 * `LASM` u8:version str:machine u16:stateCount str* u8:hasKeyFields u16:keyFieldCount str*
 * f64:watermarkMs str:lastOffset u32:keyCount then per key u16:state f64:lastMs str:seriesKey,
 * where str = u32 byte length + UTF-8. Keys are written in slot order; due times are not stored
 * (they are always lastMs + the state's timeout), so a changed timeout applies after restore.
 */
const MAGIC = 0x4d53414c; // 'LASM' read as little-endian u32
const VERSION = 1;

/** A snapshot cannot be read, or does not fit the machine definition it is restored into. */
export class StateMachineSnapshotError extends Error {
  readonly code = 'STATE_MACHINE_SNAPSHOT_INVALID';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'StateMachineSnapshotError';
  }
}

/** The table's contents as the codec sees them. */
export interface TableImage {
  machine: string;
  states: readonly string[];
  keyFieldNames: readonly string[] | null;
  watermarkMs: number;
  lastOffset: string;
  count: number;
  keys: readonly string[];
  stateIdx: Uint16Array;
  lastMs: Float64Array;
}

export function encodeTable(img: TableImage): Uint8Array {
  const strs: string[] = [img.machine, ...img.states, ...(img.keyFieldNames ?? []), img.lastOffset];
  let size = 4 + 1 + 2 + 1 + 2 + 8 + 4 + img.count * (2 + 8 + 4);
  for (const s of strs) size += 4 + Buffer.byteLength(s);
  for (let i = 0; i < img.count; i++) size += Buffer.byteLength(img.keys[i] as string);
  const buf = Buffer.allocUnsafe(size);
  let o = buf.writeUInt32LE(MAGIC, 0);
  o = buf.writeUInt8(VERSION, o);
  const str = (s: string): void => {
    const n = buf.write(s, o + 4, 'utf8');
    buf.writeUInt32LE(n, o);
    o += 4 + n;
  };
  str(img.machine);
  o = buf.writeUInt16LE(img.states.length, o);
  for (const s of img.states) str(s);
  o = buf.writeUInt8(img.keyFieldNames ? 1 : 0, o);
  o = buf.writeUInt16LE(img.keyFieldNames?.length ?? 0, o);
  for (const s of img.keyFieldNames ?? []) str(s);
  o = buf.writeDoubleLE(img.watermarkMs, o);
  str(img.lastOffset);
  o = buf.writeUInt32LE(img.count, o);
  for (let i = 0; i < img.count; i++) {
    o = buf.writeUInt16LE(img.stateIdx[i] as number, o);
    o = buf.writeDoubleLE(img.lastMs[i] as number, o);
    str(img.keys[i] as string);
  }
  return buf;
}

/** Decoded snapshot; `stateNames[i]` is the name of the state stored as index i. */
export interface DecodedTable {
  machine: string;
  stateNames: string[];
  keyFieldNames: string[] | null;
  watermarkMs: number;
  lastOffset: string;
  keys: string[];
  stateIdx: Uint16Array;
  lastMs: Float64Array;
}

export function decodeTable(bytes: Uint8Array): DecodedTable {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (buf.readUInt32LE(0) !== MAGIC)
      throw new StateMachineSnapshotError('not a state-machine snapshot (bad magic)');
    const version = buf.readUInt8(4);
    if (version !== VERSION) {
      throw new StateMachineSnapshotError(
        `state-machine snapshot version ${version} is not supported (expected ${VERSION})`,
      );
    }
    let o = 5;
    const str = (): string => {
      const n = buf.readUInt32LE(o);
      if (o + 4 + n > buf.length) throw new RangeError('string runs past the end');
      const s = buf.toString('utf8', o + 4, o + 4 + n);
      o += 4 + n;
      return s;
    };
    const machine = str();
    const stateCount = buf.readUInt16LE(o);
    o += 2;
    const stateNames: string[] = [];
    for (let i = 0; i < stateCount; i++) stateNames.push(str());
    const hasKeyFields = buf.readUInt8(o) === 1;
    const keyFieldCount = buf.readUInt16LE(o + 1);
    o += 3;
    const keyFields: string[] = [];
    for (let i = 0; i < keyFieldCount; i++) keyFields.push(str());
    const watermarkMs = buf.readDoubleLE(o);
    o += 8;
    const lastOffset = str();
    const count = buf.readUInt32LE(o);
    o += 4;
    const keys = new Array<string>(count);
    const stateIdx = new Uint16Array(count);
    const lastMs = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      stateIdx[i] = buf.readUInt16LE(o);
      lastMs[i] = buf.readDoubleLE(o + 2);
      o += 10;
      keys[i] = str();
    }
    if (o !== buf.length)
      throw new StateMachineSnapshotError(`state-machine snapshot has ${buf.length - o} trailing bytes`);
    return {
      machine,
      stateNames,
      keyFieldNames: hasKeyFields ? keyFields : null,
      watermarkMs,
      lastOffset,
      keys,
      stateIdx,
      lastMs,
    };
  } catch (err) {
    if (err instanceof StateMachineSnapshotError) throw err;
    throw new StateMachineSnapshotError(
      `state-machine snapshot is truncated or corrupt: ${(err as Error).message}`,
    );
  }
}
