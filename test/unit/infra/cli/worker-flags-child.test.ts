import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchArgs, hasWorkerFlags } from '../../../../infra/cli/worker-flags-child.js';

const repoRoot = join(import.meta.dirname, '../../../..');

describe('benches under the worker V8 flags', () => {
  it('tells whether a process has the worker flags, from its command line or NODE_OPTIONS', () => {
    expect(hasWorkerFlags([], undefined)).toBe(false);
    expect(hasWorkerFlags(['--import', 'tsx'], '--enable-source-maps')).toBe(false);
    expect(hasWorkerFlags([], '--max-semi-space-size=128')).toBe(true);
    expect(hasWorkerFlags(['--max-semi-space-size=64'], undefined)).toBe(true); // set, to another value
    expect(hasWorkerFlags(['--max_semi_space_size=128'], '')).toBe(true);
  });

  it('gives a bench its options back as arguments', () => {
    expect(benchArgs('core', { json: true, keys: '2000', warmupRecords: '0', perSeriesWindow: '6' })).toEqual(
      ['bench', 'core', '--json', '--keys', '2000', '--warmup-records', '0', '--per-series-window', '6'],
    );
    expect(benchArgs('x', { verbose: true, quiet: false, other: undefined })).toEqual([
      'bench',
      'x',
      '--json',
      '--verbose',
    ]);
  });

  it('`liveagg bench core` started without them measures in a child that has them, stdout one JSON document', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'infra/cli/run.ts'),
        'bench',
        'core',
        '--json',
        '--keys',
        '2000',
        '--records',
        '20000',
        '--warmup-records',
        '0',
      ],
      { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code, err).toBe(0);
    const doc = JSON.parse(out) as {
      nodeOptions: string;
      keys: number;
      records: number;
      core: {
        updatesPerSec: number;
        cpuSeconds: number;
        rounds: { updatesPerSec: number; cpuSeconds: number }[];
      };
      floor: { updatesPerSec: number };
      ofFloor: number;
    };
    expect(doc).toMatchObject({ keys: 2000, records: 20000 });
    // Three timed rounds by default; the core's figures are over all three.
    expect(doc.core.rounds).toHaveLength(3);
    const cpu = doc.core.rounds.reduce((a, r) => a + 20000 / r.updatesPerSec, 0);
    expect(doc.core.updatesPerSec).toBe(Math.round(60000 / cpu));
    // Rates compared as rates: the core's over three rounds, the floor's over one.
    expect(doc.ofFloor).toBeCloseTo(doc.core.updatesPerSec / doc.floor.updatesPerSec, 1);
    expect(doc.nodeOptions).toContain('--max-semi-space-size=128');
    expect(err).toContain("running under the worker's V8 flags");
  }, 60_000);
});
