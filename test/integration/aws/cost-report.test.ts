import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CancelSpotFleetRequestsCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  RequestSpotFleetCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { DRAIN_REASON_TAG, DRAINING_TAG } from '../../../autoscaler/ports/fleet-provider.js';
import { createCloudWatchClient, createEc2Client } from '../../../infra/aws/aws-clients.js';
import { CloudWatchPublisher } from '../../../infra/aws/cloudwatch-publisher.js';
import { computeCostReport } from '../../../infra/cost/cost-model.js';
import { readFleetUsage } from '../../../infra/cost/fleet-usage-reader.js';
import { shippedPriceTable } from '../../../infra/cost/price-table.js';
import { PromWorkerMetrics } from '../../../infra/metrics/prom-worker-metrics.js';
import { startCli } from '../helpers/cli-process.js';
import { awsConnection, awsEndpoint, uniqueName } from '../helpers/stack-endpoints.js';

const ec2 = createEc2Client(awsConnection);
const cloudwatch = createCloudWatchClient(awsConnection);
afterAll(() => {
  ec2.destroy();
  cloudwatch.destroy();
});

/** A small fleet on moto: 2 spot m5.large (one drained for scale-in, one interrupted) and 1 on-demand c5.large. */
async function launchFleet(fleetTag: string) {
  const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  const launch = async (type: 'm5.large' | 'c5.large', az: string, spot: boolean) => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: image,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: type,
        Placement: { AvailabilityZone: az },
        ...(spot ? { InstanceMarketOptions: { MarketType: 'spot' } } : {}),
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'liveagg:fleet', Value: fleetTag }] }],
      }),
    );
    const id = out.Instances?.[0]?.InstanceId;
    if (!id) throw new Error('RunInstances returned no instance');
    onTestFinished(async () => {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    });
    return id;
  };
  return {
    spotA: await launch('m5.large', 'us-east-1a', true),
    spotB: await launch('m5.large', 'us-east-1b', true),
    onDemand: await launch('c5.large', 'us-east-1a', false),
  };
}

async function publishWork(
  instanceId: string,
  instanceType: string,
  records: number,
  busySeconds: number,
  replayed = 0,
) {
  const metrics = new PromWorkerMetrics(false);
  metrics.consumed('events', 0, records, records * 100);
  metrics.busy('consumer', busySeconds);
  if (replayed > 0) metrics.replayed('p', replayed);
  await new CloudWatchPublisher(cloudwatch, metrics.registry, { instanceId, instanceType }).publish();
}

describe('cost report against moto', () => {
  it('prices instance-hours per pool, counts records, drains and interruptions', async () => {
    const fleetTag = uniqueName('la-cost');
    const ids = await launchFleet(fleetTag);
    // spotA was drained for scale-in, spotB interrupted; both are gone by now.
    await ec2.send(
      new CreateTagsCommand({
        Resources: [ids.spotA],
        Tags: [
          { Key: DRAINING_TAG, Value: String(Date.now() - 1000) },
          { Key: DRAIN_REASON_TAG, Value: 'scale-in' },
        ],
      }),
    );
    await ec2.send(
      new CreateTagsCommand({
        Resources: [ids.spotB],
        Tags: [{ Key: DRAIN_REASON_TAG, Value: 'interruption' }],
      }),
    );
    await publishWork(ids.spotA, 'm5.large', 3000, 0.5);
    await publishWork(ids.spotB, 'm5.large', 1000, 0.25, 400);
    await publishWork(ids.onDemand, 'c5.large', 6000, 1);
    await new Promise((r) => setTimeout(r, 1500));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [ids.spotA, ids.spotB] }));

    const priceTable = shippedPriceTable();
    const untilMs = Date.now() + 1000;
    const usage = await readFleetUsage(
      { ec2, cloudwatch },
      {
        selector: { tagKey: 'liveagg:fleet', tagValue: fleetTag },
        sinceMs: untilMs - 3_600_000,
        untilMs,
        priceTable,
      },
    );
    expect(usage.inputs.instances.map((i) => i.instanceId).sort()).toEqual(Object.values(ids).sort());
    expect(usage.inputs.spotPrices.length).toBeGreaterThan(0);
    const report = computeCostReport({
      ...usage.inputs,
      onDemandPerHour: (type) => priceTable.prices[type]?.onDemandPerHour,
    });
    const pools = report.pools.map((p) => [p.instanceType, p.availabilityZone, p.market, p.instances]);
    expect(pools).toEqual(
      expect.arrayContaining([
        ['m5.large', 'us-east-1a', 'spot', 1],
        ['m5.large', 'us-east-1b', 'spot', 1],
        ['c5.large', 'us-east-1a', 'on-demand', 1],
      ]),
    );
    const onDemandPool = report.pools.find((p) => p.market === 'on-demand');
    // On demand: the table price times the hours it ran.
    expect(onDemandPool?.cost).toBeCloseTo(
      (priceTable.prices['c5.large']?.onDemandPerHour ?? 0) * (onDemandPool?.instanceHours ?? 0),
      9,
    );
    expect(report.totals.records).toBe(10_000);
    expect(report.totals.costPerMillionRecords).toBeCloseTo((report.totals.cost / 10_000) * 1e6, 9);
    expect(report.interruptions).toMatchObject({ count: 1, instanceIds: [ids.spotB], replayedRecords: 400 });
    expect(report.waste.drainTime.unitHours).toBeGreaterThan(0);
    const w = report.waste;
    expect(
      w.drainTime.unitHours + w.interruptionHeadroom.unitHours + w.forecastHeadroom.unitHours,
    ).toBeCloseTo(w.idle.unitHours, 9);
    expect(report.totals.savingsPct).toBeGreaterThan(0);
  });

  it('liveagg cost-report --json and --html run against moto as a real process', async () => {
    const fleetTag = uniqueName('la-cost');
    await launchFleet(fleetTag);
    const dir = mkdtempSync(join(tmpdir(), 'la-cost-'));
    const configFile = join(dir, 'liveagg.yaml');
    writeFileSync(
      configFile,
      `aws:\n  region: us-east-1\n  endpoint: ${awsEndpoint}\n  accessKeyId: testing\n  secretAccessKey: testing\n`,
    );
    const htmlFile = join(dir, 'cost.html');
    const cli = startCli(
      [
        'cost-report',
        '--since',
        '1h',
        '--config',
        configFile,
        '--tag',
        `liveagg:fleet=${fleetTag}`,
        '--json',
        '--html',
        htmlFile,
      ],
      { name: 'cost-report' },
    );
    expect(await cli.exited).toBe(0);
    const doc = JSON.parse(cli.stdout()) as {
      fleet: string;
      pools: unknown[];
      onDemandPriceTable: { date: string };
    };
    expect(doc.fleet).toBe(`liveagg:fleet=${fleetTag}`);
    expect(doc.pools).toHaveLength(3);
    expect(doc.onDemandPriceTable.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('interruption headroom');
  });

  it('bills workers seen only in CloudWatch over the hours they published, when asked to', async () => {
    const fleetTag = uniqueName('la-cost');
    const ids = await launchFleet(fleetTag);
    const namespace = `LiveAggregatorsCost/${uniqueName('ns')}`;
    const ghost = uniqueName('i-ghost');
    const now = Date.now();
    const datum = (instanceId: string, instanceType: string, value: number, atMs: number) => ({
      MetricName: 'la_busy_seconds_total',
      Dimensions: [
        { Name: 'InstanceId', Value: instanceId },
        { Name: 'InstanceType', Value: instanceType },
        { Name: 'component', Value: 'consumer' },
      ],
      Value: value,
      Timestamp: new Date(atMs),
    });
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: [
          datum(ghost, 'm5.xlarge', 3600, now - 5 * 3_600_000),
          datum(ghost, 'm5.xlarge', 1800, now - 4 * 3_600_000),
          datum(ids.onDemand, 'c5.large', 10, now),
        ],
      }),
    );
    const priceTable = shippedPriceTable();
    const base = {
      selector: { tagKey: 'liveagg:fleet', tagValue: fleetTag },
      sinceMs: now - 24 * 3_600_000,
      untilMs: now + 1000,
      priceTable,
      namespace,
    };
    const without = await readFleetUsage({ ec2, cloudwatch }, base);
    expect(without.inputs.instances.map((i) => i.instanceId)).not.toContain(ghost);
    const withGhost = await readFleetUsage({ ec2, cloudwatch }, { ...base, includeMetricsOnlyWorkers: true });
    const billed = withGhost.inputs.instances.find((i) => i.instanceId === ghost);
    expect(billed).toMatchObject({
      instanceType: 'm5.xlarge',
      market: 'spot',
      availabilityZone: 'unknown',
      vcpu: 4,
    });
    // From the start of its first hour with data to the end of its last: two hours.
    expect((billed?.endMs ?? 0) - (billed?.startMs ?? 0)).toBe(2 * 3_600_000);
    expect(withGhost.notes.join(' ')).toContain('seen only in CloudWatch');
  });

  it('liveagg cost-report --spot-fleet finds the fleet members through the Spot Fleet API', async () => {
    const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    const requested = await ec2.send(
      new RequestSpotFleetCommand({
        SpotFleetRequestConfig: {
          IamFleetRole: 'arn:aws:iam::123456789012:role/liveagg-test-fleet',
          TargetCapacity: 4,
          Type: 'maintain',
          AllocationStrategy: 'lowestPrice',
          LaunchSpecifications: [{ ImageId: image, InstanceType: 'm5.xlarge', WeightedCapacity: 2 }],
        },
      }),
    );
    const id = requested.SpotFleetRequestId;
    if (!id) throw new Error('RequestSpotFleet returned no id');
    onTestFinished(async () => {
      await ec2.send(
        new CancelSpotFleetRequestsCommand({ SpotFleetRequestIds: [id], TerminateInstances: true }),
      );
    });
    const dir = mkdtempSync(join(tmpdir(), 'la-cost-'));
    const configFile = join(dir, 'liveagg.yaml');
    writeFileSync(
      configFile,
      `aws:\n  region: us-east-1\n  endpoint: ${awsEndpoint}\n  accessKeyId: testing\n  secretAccessKey: testing\n`,
    );
    const cli = startCli(
      ['cost-report', '--since', '1h', '--config', configFile, '--spot-fleet', id, '--json'],
      {
        name: 'cost-report-spot-fleet',
      },
    );
    expect(await cli.exited).toBe(0);
    const doc = JSON.parse(cli.stdout()) as {
      pools: { instanceType: string; market: string; instances: number }[];
    };
    const instances = doc.pools
      .filter((p) => p.instanceType === 'm5.xlarge')
      .reduce((sum, p) => sum + p.instances, 0);
    expect(instances).toBe(2);
  });

  it('liveagg cost-report without a fleet prints usage and fails', async () => {
    const cli = startCli(['cost-report', '--json'], { name: 'cost-report-usage' });
    expect(await cli.exited).not.toBe(0);
    expect(cli.stdout()).toBe('');
  });
});
