import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../infra/config/config-error.js';
import { EXAMPLE_PARAMS, loadDeployParams, parseDeployParams } from '../../../infra/deploy/deploy-params.js';

function problems(doc: unknown): string[] {
  try {
    parseDeployParams(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDeployParams', () => {
  it('accepts the example and fills defaults', () => {
    const p = parseDeployParams(EXAMPLE_PARAMS);
    expect(p.stackName).toBe('LiveAggregators');
    expect(p.fleet.instanceTypes.length).toBeGreaterThanOrEqual(2);
    expect(p.checkpointPrefix).toBe('checkpoints');
  });

  it('names every bad field with its value', () => {
    const out = problems({
      ...EXAMPLE_PARAMS,
      fleet: {
        minCapacity: 10,
        maxCapacity: 4,
        targetUtilization: 1.4,
        instanceTypes: [{ name: 'm6i.xlarge', weight: 4 }],
      },
      bucketName: 'Bad_Bucket',
      kafka: { brokers: ['no-port'] },
    });
    expect(out).toEqual(
      expect.arrayContaining([
        'fleet.targetUtilization: 1.4 must be in (0, 1]',
        'fleet.instanceTypes: needs at least 2 instance types so spot can diversify',
        'bucketName: "Bad_Bucket" is not a valid S3 bucket name (3-63 chars, a-z 0-9 . -)',
        'kafka.brokers.0: "no-port" is not host:port',
      ]),
    );
  });

  it('checks cross-field rules: min ≤ max, AZs in the region, subnets per AZ', () => {
    expect(problems({ ...EXAMPLE_PARAMS, fleet: { minCapacity: 10, maxCapacity: 4 } })).toEqual([
      'fleet.minCapacity: must be ≤ fleet.maxCapacity',
    ]);
    expect(problems({ ...EXAMPLE_PARAMS, availabilityZones: ['eu-west-1a', 'eu-west-1b'] })).toEqual([
      'availabilityZones: every availability zone must be in region',
    ]);
    expect(
      problems({ ...EXAMPLE_PARAMS, network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: [] } }),
    ).toEqual(['network.subnetIds: needs one subnet per availability zone when network.vpcId is set']);
    expect(problems({ ...EXAMPLE_PARAMS, availabilityZones: undefined })[0]).toMatch(
      /^availabilityZones: needs at least 2/,
    );
  });

  it('requires the endpoints and an admin token source, and rejects unknown keys', () => {
    const out = problems({
      region: 'us-east-1',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      adminToken: {},
      extra: 1,
    });
    expect(out.some((l) => l.startsWith('kafka:'))).toBe(true);
    expect(out.some((l) => l.startsWith('cassandra:'))).toBe(true);
    expect(out.some((l) => l.startsWith('adminToken'))).toBe(true);
    expect(out.some((l) => l.includes('extra'))).toBe(true);
  });
});

describe('loadDeployParams', () => {
  it('names the file and the field', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'deploy-params-'));
    const file = path.join(dir, 'p.yaml');
    await writeFile(
      file,
      'region: us-east-1\navailabilityZones: [us-east-1a, us-east-1b]\nfleet: { maxCapacity: 0 }\n',
    );
    await expect(loadDeployParams(file)).rejects.toThrow(new RegExp(`invalid configuration in ${file}`));
    await expect(loadDeployParams(file)).rejects.toThrow(/fleet\.maxCapacity: 0 /);
    await expect(loadDeployParams(path.join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read the file/);
  });
});
