import { createHash, randomBytes } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
import { checksumMatches, readCheckpointData } from './checkpoint-data-reader.js';
import type { CheckpointExtra, CheckpointStore } from './checkpoint-store.js';
import type {
  CheckpointManifest,
  LoadedCheckpoint,
  PartitionRef,
  SkippedCheckpoint,
} from './checkpoint-types.js';
import { type CheckpointCompression, compressChunks } from './chunked-codec.js';

export interface BlobCheckpointStoreOptions {
  /** Key prefix inside the store, e.g. `checkpoints`. */
  prefix: string;
  /** Identifies the writer in manifests (instance id, or host:pid). */
  writer: string;
  /** Newest valid checkpoints kept per partition by retention. */
  keep: number;
  /** Orphaned data younger than this may belong to a checkpoint still being written. */
  orphanGraceMs: number;
  /** How data objects are stored (reading handles every kind, whatever this says). */
  compression: CheckpointCompression;
  now: () => number;
}

const MANIFEST = 'manifest.json';
const DATA = 'state.bin';
const EXTENSION: Record<CheckpointCompression, string> = { snappy: '.sz', gzip: '.gz', none: '' };

/**
 * Key layout: `<prefix>/<shard>/<pipeline>/<topic>/<partition>/<id>/{state.bin[.sz|.gz],manifest.json}`.
 * The shard (4 hex digits of a hash of the partition ref) spreads partitions over many key
 * prefixes, so S3's per-prefix request limits are not hit by one hot prefix, while one
 * partition's checkpoints stay under one prefix for cheap listing. Ids sort by time.
 */
export class BlobCheckpointStore implements CheckpointStore {
  readonly location: string;
  /**
   * Data objects known to match their manifest: written by this store (it hashed the bytes it
   * uploaded) or verified since. Retention, which runs after every checkpoint, checks the newest
   * ones: without this it would download each of them again every time.
   */
  private readonly verified = new Set<string>();
  constructor(
    private readonly blobs: BlobStore,
    private readonly opts: BlobCheckpointStoreOptions,
  ) {
    this.location = `${blobs.location}/${opts.prefix}`;
  }

  async write(
    ref: PartitionRef,
    snapshot: Uint8Array,
    nextOffset: string,
    stats: Record<string, number> = {},
    extra: CheckpointExtra = {},
  ): Promise<CheckpointManifest> {
    const createdAtMs = this.opts.now();
    const id = `${String(createdAtMs).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
    const compression = this.opts.compression;
    const { stored, chunks } =
      compression === 'none'
        ? { stored: snapshot, chunks: undefined }
        : await compressChunks(snapshot, compression);
    const dataKey = `${this.partitionPrefix(ref)}${id}/${DATA}${EXTENSION[compression]}`;
    // Hashing in slices overlaps the upload (and leaves the event loop to consumption).
    const [digest] = await Promise.all([sha256(stored), this.blobs.put(dataKey, stored)]);
    const manifest: CheckpointManifest = {
      formatVersion: 1,
      id,
      pipeline: ref.pipeline,
      topic: ref.topic,
      partition: ref.partition,
      nextOffset,
      createdAtMs,
      writer: this.opts.writer,
      dataKey,
      storedBytes: stored.byteLength,
      stateBytes: snapshot.byteLength,
      sha256: digest,
      compression,
      ...(chunks ? { chunks } : {}),
      ...(extra.advanceWatermarkToMs !== undefined
        ? { advanceWatermarkToMs: extra.advanceWatermarkToMs }
        : {}),
      stats,
    };
    await this.blobs.put(
      `${this.partitionPrefix(ref)}${id}/${MANIFEST}`,
      Buffer.from(JSON.stringify(manifest)),
    );
    this.verified.add(dataKey);
    return manifest;
  }

  async latestValid(
    ref: PartitionRef,
  ): Promise<{ checkpoint: LoadedCheckpoint | undefined; skipped: SkippedCheckpoint[] }> {
    const skipped: SkippedCheckpoint[] = [];
    // Highest offset first (ties: newest): a late write by a previous owner that had processed
    // less must not shadow a newer owner's further-advanced checkpoint.
    const candidates: { id: string; offset: bigint; manifest: CheckpointManifest }[] = [];
    for (const id of await this.checkpointIds(ref)) {
      const bytes = await this.blobs.get(`${this.partitionPrefix(ref)}${id}/${MANIFEST}`);
      const m = bytes ? parseManifest(bytes) : undefined;
      if (!m) {
        skipped.push({ id, reason: 'bad_manifest', detail: 'manifest missing or not a valid manifest' });
        continue;
      }
      candidates.push({ id, offset: BigInt(m.nextOffset), manifest: m });
    }
    candidates.sort((a, b) =>
      a.offset === b.offset ? (a.id < b.id ? 1 : -1) : a.offset < b.offset ? 1 : -1,
    );
    for (const { id, manifest } of candidates) {
      const loaded = await this.loadData(id, manifest);
      if ('manifest' in loaded) return { checkpoint: loaded, skipped };
      skipped.push(loaded);
    }
    return { checkpoint: undefined, skipped };
  }

  async load(ref: PartitionRef, id: string): Promise<LoadedCheckpoint | SkippedCheckpoint> {
    const manifestBytes = await this.blobs.get(`${this.partitionPrefix(ref)}${id}/${MANIFEST}`);
    const manifest = manifestBytes ? parseManifest(manifestBytes) : undefined;
    if (!manifest) return { id, reason: 'bad_manifest', detail: 'manifest missing or not a valid manifest' };
    return this.loadData(id, manifest);
  }

  /** The data object a manifest names, verified against its checksum and decompressed as it streams in. */
  private async loadData(
    id: string,
    manifest: CheckpointManifest,
  ): Promise<LoadedCheckpoint | SkippedCheckpoint> {
    const pieces = await this.blobs.stream(manifest.dataKey);
    if (!pieces) return { id, reason: 'missing_data', detail: `data object ${manifest.dataKey} is missing` };
    const data = await readCheckpointData(pieces, manifest);
    if ('reason' in data) return { id, ...data };
    this.verified.add(manifest.dataKey);
    return { manifest, snapshot: data.parts };
  }

  async list(ref: Partial<PartitionRef> = {}): Promise<CheckpointManifest[]> {
    const prefix =
      ref.pipeline !== undefined && ref.topic !== undefined && ref.partition !== undefined
        ? this.partitionPrefix(ref as PartitionRef)
        : `${this.opts.prefix}/`;
    const keys = (await this.blobs.list(prefix)).filter((b) => b.key.endsWith(`/${MANIFEST}`));
    const manifests: CheckpointManifest[] = [];
    for (const { key } of keys) {
      const bytes = await this.blobs.get(key);
      const m = bytes ? parseManifest(bytes) : undefined;
      if (!m) continue;
      if (ref.pipeline !== undefined && m.pipeline !== ref.pipeline) continue;
      if (ref.topic !== undefined && m.topic !== ref.topic) continue;
      if (ref.partition !== undefined && m.partition !== ref.partition) continue;
      manifests.push(m);
    }
    return manifests.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  async applyRetention(ref: PartitionRef): Promise<{ deletedKeys: string[] }> {
    const prefix = this.partitionPrefix(ref);
    const blobs = await this.blobs.list(prefix);
    // Per checkpoint id: its objects' keys and sizes, and when the newest of them was written.
    const byId = new Map<string, { sizes: Map<string, number>; newestMs: number }>();
    for (const b of blobs) {
      const id = b.key.slice(prefix.length).split('/')[0];
      if (!id) continue;
      const entry = byId.get(id) ?? { sizes: new Map<string, number>(), newestMs: 0 };
      entry.sizes.set(b.key, b.sizeBytes);
      entry.newestMs = Math.max(entry.newestMs, b.modifiedMs);
      byId.set(id, entry);
    }
    // The order latestValid reads them in: highest offset first (ties: newest). A late checkpoint from a previous
    // owner that had processed less must not push out the one the group's committed offsets rely on.
    const manifests = new Map<string, CheckpointManifest | undefined>();
    for (const [id, entry] of byId) {
      const key = `${prefix}${id}/${MANIFEST}`;
      if (!entry.sizes.has(key)) continue;
      const bytes = await this.blobs.get(key);
      manifests.set(id, bytes ? parseManifest(bytes) : undefined);
    }
    const offset = (id: string) => {
      const m = manifests.get(id);
      return m ? BigInt(m.nextOffset) : -1n;
    };
    const ids = [...byId.keys()].sort((a, b) => {
      const oa = offset(a);
      const ob = offset(b);
      return oa === ob ? (a < b ? 1 : a > b ? -1 : 0) : oa < ob ? 1 : -1;
    });
    const deletedIds: string[] = [];
    let keptValid = 0;
    for (const id of ids) {
      const entry = byId.get(id)!;
      if (!manifests.has(id)) {
        // A data object without a manifest: either a checkpoint being written now (keep it for
        // the grace period) or one whose writer died (orphan: delete).
        if (this.opts.now() - entry.newestMs > this.opts.orphanGraceMs) deletedIds.push(id);
        continue;
      }
      const manifest = manifests.get(id);
      if (keptValid < this.opts.keep) {
        if (manifest && (await this.intact(manifest, entry.sizes.get(manifest.dataKey)))) {
          keptValid += 1;
          continue;
        }
        // Invalid checkpoints among the newest are kept for inspection until enough valid ones exist.
        if (keptValid === 0) continue;
      }
      deletedIds.push(id);
    }
    const deletedKeys = deletedIds.flatMap((id) => [...byId.get(id)!.sizes.keys()]);
    if (deletedKeys.length > 0) await this.blobs.delete(deletedKeys);
    for (const id of deletedIds) {
      const dataKey = manifests.get(id)?.dataKey;
      if (dataKey) this.verified.delete(dataKey);
    }
    return { deletedKeys };
  }

  /**
   * Whether a checkpoint's data object is there, of its manifest's size, and (unless known
   * already) hashes to its checksum: streamed and hashed only, nothing decompressed or kept.
   */
  private async intact(manifest: CheckpointManifest, listedBytes: number | undefined): Promise<boolean> {
    if (listedBytes !== manifest.storedBytes) return false;
    if (this.verified.has(manifest.dataKey)) return true;
    const pieces = await this.blobs.stream(manifest.dataKey);
    if (!pieces || !(await checksumMatches(pieces, manifest))) return false;
    this.verified.add(manifest.dataKey);
    return true;
  }

  private async checkpointIds(ref: PartitionRef): Promise<string[]> {
    const prefix = this.partitionPrefix(ref);
    const ids = new Set<string>();
    for (const b of await this.blobs.list(prefix)) {
      if (b.key.endsWith(`/${MANIFEST}`)) ids.add(b.key.slice(prefix.length).split('/')[0]!);
    }
    return [...ids].sort().reverse();
  }

  private partitionPrefix(ref: PartitionRef): string {
    const shard = createHash('sha256')
      .update(`${ref.pipeline}\u0000${ref.topic}\u0000${ref.partition}`)
      .digest('hex')
      .slice(0, 4);
    return `${this.opts.prefix}/${shard}/${encodeURIComponent(ref.pipeline)}/${encodeURIComponent(ref.topic)}/${ref.partition}/`;
  }
}

/** Bytes hashed between two turns of the event loop (a few ms here). */
const HASH_SLICE_BYTES = 4 << 20;

/**
 * SHA-256 of `bytes` in hex, hashed in slices with the event loop free between them: a
 * checkpoint of a large state is hundreds of MB, ~0.5 s of hashing that would otherwise stop
 * every partition's consumption (and the upload it overlaps).
 */
async function sha256(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let off = 0; off < bytes.byteLength; off += HASH_SLICE_BYTES) {
    if (off > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    hash.update(bytes.subarray(off, Math.min(bytes.byteLength, off + HASH_SLICE_BYTES)));
  }
  return hash.digest('hex');
}

function parseManifest(bytes: Uint8Array): CheckpointManifest | undefined {
  try {
    const m = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<CheckpointManifest>;
    if (
      m.formatVersion !== 1 ||
      typeof m.id !== 'string' ||
      typeof m.dataKey !== 'string' ||
      typeof m.sha256 !== 'string'
    )
      return undefined;
    if (m.compression !== 'snappy' && m.compression !== 'gzip' && m.compression !== 'none') return undefined;
    if (
      m.chunks !== undefined &&
      (!Array.isArray(m.chunks) || !m.chunks.every((n) => Number.isInteger(n) && n > 0))
    )
      return undefined;
    if (m.advanceWatermarkToMs !== undefined && !Number.isFinite(m.advanceWatermarkToMs)) return undefined;
    if (typeof m.nextOffset !== 'string' || !/^\d+$/.test(m.nextOffset) || typeof m.partition !== 'number')
      return undefined;
    return m as CheckpointManifest;
  } catch {
    return undefined;
  }
}
