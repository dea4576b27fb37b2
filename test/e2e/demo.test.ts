import { describe, expect, it } from 'vitest';
import { startCli } from '../integration/helpers/cli-process.js';

/**
 * The whole system on one machine, as `npm start` runs it: the local stack, a compressed day of the bike-sharing
 * trace, the real autoscaler resizing a fleet of real worker processes, a spot interruption through the metadata mock,
 * and the no-loss check of the sink's output against the load generator's own count.
 */
describe('liveagg demo (end to end)', () => {
  it('scales out, drains then scales in, survives an interruption, and loses or duplicates nothing', async () => {
    const demo = startCli(['demo', '--duration', '150s', '--json', '--ui', '0'], {
      name: 'e2e-demo',
      env: { LIVEAGG_LOG_LEVEL: 'warn' },
    });
    const code = await demo.exited;
    const lines = demo.stdout().trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, number>;
    expect(Object.keys(summary).sort()).toEqual(
      [
        'recordsProduced',
        'recordsAggregated',
        'scaleOuts',
        'scaleIns',
        'drains',
        'interruptionsHandled',
        'lost',
        'duplicated',
      ].sort(),
    );
    expect(summary['recordsProduced']).toBeGreaterThan(10_000);
    expect(summary['recordsAggregated']).toBe(summary['recordsProduced']);
    expect(summary['scaleOuts']).toBeGreaterThanOrEqual(1);
    expect(summary['scaleIns']).toBeGreaterThanOrEqual(1);
    expect(summary['drains']).toBeGreaterThanOrEqual(1);
    expect(summary['interruptionsHandled']).toBeGreaterThanOrEqual(1);
    expect(summary['lost']).toBe(0);
    expect(summary['duplicated']).toBe(0);
    expect(code).toBe(0);
  }, 300_000);
});
