import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAutoscaler } from '../../../../infra/autoscaler-run/build-autoscaler.js';
import { parseConfig } from '../../../../infra/config/load-config.js';
import { createLogger } from '../../../../infra/log/logger.js';

const cwMock = mockClient(CloudWatchClient);
let dir: string;

beforeEach(async () => {
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
  dir = await mkdtemp(join(tmpdir(), 'la-build-autoscaler-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function config(fleet: Record<string, unknown>) {
  return parseConfig(
    {
      aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1' },
      fleet: { decisionLogFile: join(dir, 'decisions.jsonl'), ...fleet },
    },
    'test',
  );
}

describe('buildAutoscaler: the loop publishes its own metrics to CloudWatch on AWS fleets', () => {
  it('publishes la_drain_failures_total (what the deploy alarm sums) with its reason, at the latest on close', async () => {
    const rt = await buildAutoscaler(config({ provider: 'spot-fleet', name: 'sfr-1' }), {
      document: {},
      log: createLogger('test', 'silent'),
    });
    expect(rt.publisher).toBeDefined();
    rt.gauges.drainFailed('interruption');
    await rt.close();
    const data: MetricDatum[] = cwMock
      .commandCalls(PutMetricDataCommand)
      .flatMap((c) => c.args[0].input.MetricData ?? []);
    const failures = data.filter((d) => d.MetricName === 'la_drain_failures_total');
    expect(failures).toHaveLength(1);
    expect(failures[0]?.Value).toBe(1);
    expect(failures[0]?.Dimensions).toContainEqual({ Name: 'reason', Value: 'interruption' });
    expect(cwMock.commandCalls(PutMetricDataCommand)[0]?.args[0].input.Namespace).toBe('LiveAggregators');
  });

  it('does not publish in dry-run or when fleet.cloudwatch.enabled is false', async () => {
    for (const [fleet, dryRun] of [
      [{ provider: 'asg', name: 'workers' }, true],
      [{ provider: 'asg', name: 'workers', cloudwatch: { enabled: false } }, false],
    ] as const) {
      const rt = await buildAutoscaler(config(fleet), {
        document: {},
        log: createLogger('test', 'silent'),
        dryRun,
      });
      expect(rt.publisher).toBeUndefined();
      await rt.close();
    }
    expect(cwMock.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});
