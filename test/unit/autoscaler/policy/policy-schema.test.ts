import { describe, expect, it } from 'vitest';
import { parseAutoscalerPolicy } from '../../../../autoscaler/policy/policy-schema.js';
import { ConfigError } from '../../../../infra/config/config-error.js';
import { parseConfig } from '../../../../infra/config/load-config.js';

function problems(autoscaler: unknown): string[] {
  try {
    parseConfig({ autoscaler }, 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('autoscaler policy schema', () => {
  it('fills defaults: weight = vCPU, pools = every type in every AZ', () => {
    const p = parseAutoscalerPolicy({
      instanceTypes: [
        { name: 'm6i.xlarge', vcpu: 4, memoryGiB: 16 },
        { name: 'c6i.2xlarge', vcpu: 8, memoryGiB: 16, weight: 10 },
      ],
      availabilityZones: ['a', 'b'],
    });
    expect(p.targetUtilization).toBe(0.75);
    expect(p.utilizationBand).toEqual([0.7, 0.85]);
    expect(p.instanceTypes.map((t) => t.weight)).toEqual([4, 10]);
    expect(p.pools).toHaveLength(4);
    expect(p.leadTime).toEqual({ bootMs: 120_000, joinMs: 30_000, restoreMs: 60_000 });
  });

  it('is the config file autoscaler section, defaulted when absent', () => {
    expect(parseConfig({}, 'defaults').autoscaler.targetUtilization).toBe(0.75);
  });

  it('names the field and value for a target utilization outside (0, 1]', () => {
    expect(problems({ targetUtilization: 1.4 })).toContain(
      'autoscaler.targetUtilization: 1.4 is not in (0, 1]',
    );
    expect(problems({ targetUtilization: 0 })).toContain('autoscaler.targetUtilization: 0 is not in (0, 1]');
  });

  it('rejects min > max naming minUnits', () => {
    expect(problems({ minUnits: 50, maxUnits: 10 })).toContain(
      'autoscaler.minUnits: must be ≤ maxUnits (10)',
    );
  });

  it('rejects a pool naming an unknown instance type', () => {
    const p = problems({
      instanceTypes: [{ name: 'm6i.xlarge', vcpu: 4, memoryGiB: 16 }],
      pools: [{ instanceType: 'm7g.large', availabilityZone: 'us-east-1a' }],
    });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^autoscaler\.pools\.0\.instanceType: unknown instance type "m7g\.large"/);
  });

  it('rejects unknown keys (typos name themselves)', () => {
    expect(problems({ targetUtilisation: 0.8 }).join('\n')).toMatch(/targetUtilisation/);
  });

  it('requires the band to contain the target', () => {
    expect(problems({ targetUtilization: 0.9 }).join('\n')).toMatch(
      /^autoscaler\.utilizationBand: must contain targetUtilization/,
    );
  });
});
