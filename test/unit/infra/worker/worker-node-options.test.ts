import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  applyWorkerRuntimeFlags,
  WORKER_RUNTIME_V8_FLAGS,
  workerEnv,
  workerNodeOptions,
} from '../../../../infra/worker/worker-node-options.js';

describe('worker NODE_OPTIONS', () => {
  it('adds the young-generation flag to whatever options are already set', () => {
    expect(workerNodeOptions(undefined)).toBe('--max-semi-space-size=128');
    expect(workerNodeOptions('  --import tsx ')).toBe('--import tsx --max-semi-space-size=128');
  });

  it('keeps a value the operator set, in either spelling, instead of overriding it', () => {
    expect(workerNodeOptions('--max-semi-space-size=16')).toBe('--max-semi-space-size=16');
    expect(workerNodeOptions('--max_semi_space_size=32 --enable-source-maps')).toBe(
      '--max_semi_space_size=32 --enable-source-maps',
    );
  });

  it('returns a copy of the environment with NODE_OPTIONS set', () => {
    const env = { PATH: '/bin', NODE_OPTIONS: '--enable-source-maps' };
    expect(workerEnv(env)).toEqual({
      PATH: '/bin',
      NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=128',
    });
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('sets the flags NODE_OPTIONS refuses on the worker itself, unless its command line chose them', () => {
    const set: string[] = [];
    expect(applyWorkerRuntimeFlags(['--import', 'tsx'], (f) => set.push(f))).toEqual([
      '--no-allocation-site-pretenuring',
    ]);
    expect(set).toEqual(['--no-allocation-site-pretenuring']);
    for (const chosen of [
      '--allocation-site-pretenuring',
      '--allocation_site_pretenuring',
      '--no-allocation-site-pretenuring',
    ]) {
      set.length = 0;
      expect(applyWorkerRuntimeFlags([chosen], (f) => set.push(f))).toEqual([]);
      expect(set).toEqual([]);
    }
    // A flag with a similar prefix is another option.
    expect(applyWorkerRuntimeFlags(['--allocation-site-pretenuring-x'], (f) => set.push(f))).toHaveLength(1);
  });

  it("names flags this node's V8 knows (it ignores an unknown one set at run time)", () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of WORKER_RUNTIME_V8_FLAGS) {
      const name = flag.replace(/^--no-/, '--');
      expect(known).toMatch(new RegExp(`^\\s*${name}[\\s(]`, 'm'));
    }
  });
});
