import { describe, expect, it } from 'vitest';
import { workerEnv, workerNodeOptions } from '../../../../infra/worker/worker-node-options.js';

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
});
