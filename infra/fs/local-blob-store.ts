import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { type BlobInfo, type BlobStore, BlobStoreError } from '../../aggregator/checkpoint/blob-store.js';

/** Pieces {@link LocalBlobStore.stream} reads at a time. */
const STREAM_PIECE_BYTES = 1 << 20;

/**
 * A directory as a blob store: each write goes to a temporary file that is fsynced and then
 * renamed into place, so a reader (or a crash) never sees half an object.
 */
export class LocalBlobStore implements BlobStore {
  readonly location: string;
  constructor(private readonly root: string) {
    this.location = root;
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new BlobStoreError(
        'LOCAL_WRITE_FAILED',
        `cannot write ${path}: ${(err as Error).message}`,
        false,
        { cause: err },
      );
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BlobStoreError('LOCAL_READ_FAILED', `cannot read ${key}: ${(err as Error).message}`, false, {
        cause: err,
      });
    }
  }

  async stream(key: string, start = 0): Promise<AsyncIterable<Uint8Array> | undefined> {
    let fh: import('node:fs/promises').FileHandle;
    try {
      fh = await open(this.pathOf(key), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BlobStoreError('LOCAL_READ_FAILED', `cannot read ${key}: ${(err as Error).message}`, false, {
        cause: err,
      });
    }
    // The stream closes the file when it ends, fails or its reader stops early.
    return fh.createReadStream({ start, highWaterMark: STREAM_PIECE_BYTES });
  }

  async list(prefix: string): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.includes('.tmp-')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const st = await stat(full);
          out.push({ key, sizeBytes: st.size, modifiedMs: st.mtimeMs });
        }
      }
    };
    // Walk from the deepest directory the prefix names fully.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(join(this.root, ...dirPart.split('/').filter(Boolean)));
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async delete(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(this.pathOf(k), { force: true })));
  }

  private pathOf(key: string): string {
    if (key.split('/').some((seg) => seg === '..' || seg === '')) {
      throw new BlobStoreError('BAD_KEY', `invalid blob key ${JSON.stringify(key)}`, false);
    }
    return join(this.root, ...key.split('/'));
  }
}
