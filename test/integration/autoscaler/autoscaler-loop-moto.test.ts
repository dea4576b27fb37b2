import {
  CancelSpotFleetRequestsCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  RequestSpotFleetCommand,
} from '@aws-sdk/client-ec2';
import { DeleteRuleCommand, PutEventsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { Autoscaler } from '../../../autoscaler/control/autoscaler.js';
import { capacityModelFromThroughput, type PlanDecision } from '../../../autoscaler/plan/plan-types.js';
import { parseAutoscalerPolicy } from '../../../autoscaler/policy/policy-schema.js';
import type { Clock } from '../../../autoscaler/ports/clock.js';
import type { DecisionLog, DecisionLogRecord } from '../../../autoscaler/ports/decision-log.js';
import {
  type CapacityRequest,
  DRAIN_REASON_TAG,
  type FleetProvider,
  type FleetSnapshot,
  type InstanceId,
  type PoolCapacityError,
} from '../../../autoscaler/ports/fleet-provider.js';
import { AsgFleetProvider } from '../../../infra/aws/asg-fleet-provider.js';
import {
  createAutoScalingClient,
  createCloudWatchClient,
  createEc2Client,
  createEventBridgeClient,
  createSqsClient,
} from '../../../infra/aws/aws-clients.js';
import { CloudWatchMetricsSource } from '../../../infra/aws/cloudwatch-metrics-source.js';
import { CloudWatchPublisher } from '../../../infra/aws/cloudwatch-publisher.js';
import { READY_TAG } from '../../../infra/aws/ec2-instances.js';
import { ensureInterruptionRoute } from '../../../infra/aws/interruption-route.js';
import { SpotFleetProvider } from '../../../infra/aws/spot-fleet-provider.js';
import {
  SPOT_INTERRUPTION_DETAIL_TYPE,
  SqsInterruptionSource,
} from '../../../infra/aws/sqs-interruption-source.js';
import { AdminServer } from '../../../infra/http/admin-server.js';
import { WorkerControlClient } from '../../../infra/http/worker-control-client.js';
import { PromWorkerMetrics } from '../../../infra/metrics/prom-worker-metrics.js';
import { createMixedInstancesGroup, motoImageId } from '../helpers/moto-fleets.js';
import { awsConnection, uniqueName } from '../helpers/stack-endpoints.js';

/*
 * The real control loop (autoscaler/control/autoscaler.ts) against moto: the real fleet adapters resize a Spot Fleet
 * request and an Auto Scaling group with a mixed-instances policy; metrics come in through CloudWatch (each "worker"
 * publishes with the real CloudWatchPublisher, the loop reads with CloudWatchMetricsSource); drains go through the real
 * WorkerControlClient to one real admin HTTP server (infra/http/admin-server.ts) per moto instance; the interruption
 * warning goes EventBridge rule → SQS → SqsInterruptionSource. Only the clock is manual: phases lie 10 minutes apart,
 * so each phase's CloudWatch data is alone in the loop's 5-minute window (moto instances launch at once).
 */

const ec2 = createEc2Client(awsConnection);
const autoscaling = createAutoScalingClient(awsConnection);
const cloudwatch = createCloudWatchClient(awsConnection);
const sqs = createSqsClient(awsConnection);
const events = createEventBridgeClient(awsConnection);
afterAll(() => {
  for (const c of [ec2, autoscaling, cloudwatch, sqs, events]) c.destroy();
});

const TOPIC = 'events';
const MIN = 60_000;
const WINDOW_MS = 5 * MIN;
/** Records/s one vCPU sustains (the configured model; the "workers" report busy time consistent with it). */
const PER_VCPU = 1000;

class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

class MemoryLog implements DecisionLog {
  readonly records: DecisionLogRecord[] = [];
  async append(record: DecisionLogRecord): Promise<void> {
    this.records.push(JSON.parse(JSON.stringify(record)) as DecisionLogRecord);
  }
  of(kind: string): DecisionLogRecord[] {
    return this.records.filter((r) => r.kind === kind);
  }
}

/** What happened, in order: drains seen by the workers' admin servers and the loop's calls to the fleet. */
type Step =
  | { what: 'drain'; instanceId: InstanceId; motoState: string | undefined; targetUnits: number }
  | { what: 'terminate'; instanceId: InstanceId }
  | { what: 'set-target'; totalUnits: number };

/** The real adapter, with each mutating call recorded in `steps` before it is made. */
class RecordingFleet implements FleetProvider {
  readonly capacityErrors?: (sinceMs: number) => Promise<PoolCapacityError[]>;
  capacityReads = 0;
  constructor(
    private readonly inner: FleetProvider,
    private readonly steps: Step[],
    reportsCapacity: boolean,
  ) {
    const read = inner.capacityErrors?.bind(inner);
    if (reportsCapacity && read)
      this.capacityErrors = (sinceMs) => {
        this.capacityReads += 1;
        return read(sinceMs);
      };
  }
  describe(): Promise<FleetSnapshot> {
    return this.inner.describe();
  }
  setTargetCapacity(request: CapacityRequest): Promise<void> {
    this.steps.push({ what: 'set-target', totalUnits: request.totalUnits });
    return this.inner.setTargetCapacity(request);
  }
  terminateInstance(instanceId: InstanceId, options: { decrementCapacity: boolean }): Promise<void> {
    this.steps.push({ what: 'terminate', instanceId });
    return this.inner.terminateInstance(instanceId, options);
  }
  tagInstance(instanceId: InstanceId, tags: Readonly<Record<string, string>>): Promise<void> {
    return this.inner.tagInstance(instanceId, tags);
  }
  untagInstance(instanceId: InstanceId, keys: readonly string[]): Promise<void> {
    return this.inner.untagInstance(instanceId, keys);
  }
}

async function motoState(instanceId: InstanceId): Promise<string | undefined> {
  const out = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }),
  );
  return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

/**
 * One simulated worker per moto instance: a real admin API server (POST /drain, GET /status, /readyz) and the
 * READY_TAG a worker sets once it has joined and restored.
 */
class Workers {
  readonly servers = new Map<InstanceId, { server: AdminServer; url: string; draining: boolean }>();
  constructor(
    private readonly fleet: FleetProvider,
    private readonly clock: ManualClock,
    private readonly steps: Step[],
  ) {}

  endpointOf = async (id: InstanceId): Promise<string | undefined> => this.servers.get(id)?.url;

  /** Boots a worker on every running instance that has none, and marks it ready. */
  async sync(): Promise<void> {
    const snapshot = await this.fleet.describe();
    for (const i of snapshot.instances) {
      if (this.servers.has(i.instanceId) || (i.state !== 'running' && i.state !== 'ready')) continue;
      const entry = { server: undefined as unknown as AdminServer, url: '', draining: false };
      entry.server = new AdminServer(
        {
          healthy: () => true,
          ready: () => ({ ready: !entry.draining }),
          metrics: async () => '',
          status: async () => ({
            draining: entry.draining,
            partitions: [{ checkpointAgeSeconds: 5 }],
            memory: { usedBytes: 1_000_000 },
          }),
          drain: async () => {
            entry.draining = true;
            // What moto says at the moment the worker is asked to drain: the instance must still be there.
            const [state, fleet] = await Promise.all([motoState(i.instanceId), this.fleet.describe()]);
            this.steps.push({
              what: 'drain',
              instanceId: i.instanceId,
              motoState: state,
              targetUnits: fleet.targetUnits,
            });
            return { checkpoints: [{ id: `cp-${i.instanceId}` }], seconds: 0.05, complete: true };
          },
          checkpoint: async () => ({ checkpoints: [{ id: `cp-${i.instanceId}-now` }] }),
        },
        { host: '127.0.0.1', port: 0 },
      );
      const { port } = await entry.server.start();
      entry.url = `http://127.0.0.1:${port}`;
      this.servers.set(i.instanceId, entry);
      await ec2.send(
        new CreateTagsCommand({
          Resources: [i.instanceId],
          Tags: [{ Key: READY_TAG, Value: String(this.clock.now()) }],
        }),
      );
    }
  }

  /**
   * Every live, non-draining worker publishes one window of work at `recordsPerSecond` in total (records, busy CPU
   * consistent with {@link PER_VCPU}, lag 0, state), timestamped at the clock's now.
   */
  async publish(recordsPerSecond: number): Promise<void> {
    const snapshot = await this.fleet.describe();
    const live = snapshot.instances.filter(
      (i) => (i.state === 'ready' || i.state === 'running') && !this.servers.get(i.instanceId)?.draining,
    );
    const records = Math.round((recordsPerSecond * WINDOW_MS) / 1000 / live.length);
    for (const [n, i] of live.entries()) {
      const metrics = new PromWorkerMetrics(false);
      const publisher = new CloudWatchPublisher(
        cloudwatch,
        metrics.registry,
        { instanceId: i.instanceId, instanceType: i.instanceType },
        () => new Date(this.clock.now() - 30_000),
      );
      metrics.consumed(TOPIC, n, records, records * 100);
      metrics.busy('consumer', records / PER_VCPU / 2);
      metrics.busy('aggregator', records / PER_VCPU / 2);
      metrics.lag(TOPIC, n, 0);
      metrics.memory(1_000_000, 4_000_000_000, 1000, {});
      await publisher.publish();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.server.stop()));
  }
}

interface FleetUnderTest {
  provider: FleetProvider;
  /**
   * Whether the emulated fleet launches instances for a raised target after instances were terminated through EC2.
   * moto's Spot Fleet does not: it keeps counting an instance ended by TerminateInstances in its FulfilledCapacity, so
   * a target raised back by that many units launches nothing (AWS replaces it). Assertions on moto's instance count
   * take that into account; the loop's request (the target) is asserted the same way for both fleets.
   */
  refillsAfterEc2Termination: boolean;
  /**
   * Whether the loop reads the fleet's asynchronous capacity reports here: moto answers DescribeScalingActivities (with
   * no activity) but has no DescribeSpotFleetRequestHistory; the parsing of both is unit-tested with
   * aws-sdk-client-mock (test/unit/infra/aws).
   */
  reportsCapacity: boolean;
  instanceType: string;
  vcpu: number;
  initialUnits: number;
}

async function spotFleet(): Promise<FleetUnderTest> {
  const ami = await motoImageId(ec2);
  const requested = await ec2.send(
    new RequestSpotFleetCommand({
      SpotFleetRequestConfig: {
        IamFleetRole: 'arn:aws:iam::123456789012:role/liveagg-test-fleet',
        TargetCapacity: 2,
        Type: 'maintain',
        AllocationStrategy: 'lowestPrice',
        ExcessCapacityTerminationPolicy: 'noTermination',
        LaunchSpecifications: [
          { ImageId: ami, InstanceType: 'm5.large', WeightedCapacity: 1 },
          { ImageId: ami, InstanceType: 'm5a.large', WeightedCapacity: 1 },
        ],
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
  return {
    provider: new SpotFleetProvider(ec2, { spotFleetRequestId: id }),
    refillsAfterEc2Termination: false,
    reportsCapacity: false,
    instanceType: 'm5.large',
    vcpu: 2,
    initialUnits: 2,
  };
}

async function mixedInstancesGroup(): Promise<FleetUnderTest> {
  const groupName = await createMixedInstancesGroup(ec2, autoscaling, 2);
  return {
    provider: new AsgFleetProvider(autoscaling, ec2, { groupName }),
    refillsAfterEc2Termination: true,
    reportsCapacity: true,
    instanceType: 'm5.large',
    vcpu: 2,
    initialUnits: 2,
  };
}

const liveIds = (s: FleetSnapshot) =>
  s.instances.filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down').map((i) => i.instanceId);

async function scenario(make: () => Promise<FleetUnderTest>): Promise<void> {
  const under = await make();
  const steps: Step[] = [];
  const fleet = new RecordingFleet(under.provider, steps, under.reportsCapacity);
  // Minute-aligned, 40 minutes back: the three phases (0, +10, +20 min) all lie in the past for CloudWatch.
  const clock = new ManualClock(Math.floor((Date.now() - 40 * MIN) / MIN) * MIN);
  const workers = new Workers(under.provider, clock, steps);
  onTestFinished(() => workers.close());
  const queueName = uniqueName('la-test-int');
  const ruleName = uniqueName('la-test-rule');
  const route = await ensureInterruptionRoute(events, sqs, { queueName, ruleName });
  onTestFinished(async () => {
    await events.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ['liveagg-autoscaler-queue'] }));
    await events.send(new DeleteRuleCommand({ Name: ruleName }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: route.queueUrl }));
  });
  const log = new MemoryLog();
  const policy = parseAutoscalerPolicy({
    instanceTypes: [
      { name: 'm5.large', vcpu: 2, memoryGiB: 8, weight: 1, spotPriceHintPerHour: 0.04 },
      { name: 'm5a.large', vcpu: 2, memoryGiB: 8, weight: 1, spotPriceHintPerHour: 0.04 },
    ],
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    targetUtilization: 0.75,
    utilizationBand: [0.6, 0.85],
    minUnits: 2,
    maxUnits: 10,
    largestPoolLossHeadroom: false,
    scaleUpCooldownMs: 0,
    scaleDownCooldownMs: 0,
    scaleInSustainMs: 0,
    scaleInMinSavingRatio: 1,
    leadTime: { bootMs: 10_000, joinMs: 5_000, restoreMs: 5_000 },
    drainTimeoutMs: 20_000,
    drainRetries: 0,
    metricsWindowMs: WINDOW_MS,
  });
  const loop = new Autoscaler({
    fleet,
    metrics: new CloudWatchMetricsSource(cloudwatch, {
      now: () => clock.now(),
      includeInstance: (id) => workers.servers.has(id),
    }),
    interruptions: new SqsInterruptionSource(sqs, { queueUrl: route.queueUrl, waitTimeSeconds: 0 }),
    workers: new WorkerControlClient({ endpointOf: workers.endpointOf, requestTimeoutMs: 5_000 }),
    decisionLog: log,
    clock,
    policy,
    baseModel: capacityModelFromThroughput({ 'm5.large': PER_VCPU, 'm5a.large': PER_VCPU }),
  });
  let ticks = 0;
  const tick = async (): Promise<PlanDecision> => {
    ticks += 1;
    const d = await loop.tick();
    if (d === undefined)
      throw new Error(`the loop could not observe the fleet: ${JSON.stringify(log.records)}`);
    await loop.settled();
    clock.t += policy.intervalMs;
    return d;
  };

  await workers.sync();
  const start = await under.provider.describe();
  expect(start.targetUnits).toBe(under.initialUnits);

  // 1. Scale-out: 4,000 records/s need 4,000 / 1,000 / 2 vCPU / 0.75 = 2.67 → 3+ units; 2 are there.
  await workers.publish(4_000);
  const out = await tick();
  expect(out.action).toBe('scale-out');
  expect(out.reasons.map((r) => r.code)).toContain('above-band');
  expect(out.inputs.liveRecordsPerSecond).toBeCloseTo(4_000, 0);
  const afterOut = await under.provider.describe();
  expect(out.desiredUnits).toBe(3);
  expect(afterOut.targetUnits).toBe(3);
  expect(liveIds(afterOut)).toHaveLength(afterOut.targetUnits);
  expect(steps.filter((s) => s.what === 'terminate')).toEqual([]);
  await workers.sync();

  // 2. Scale-in, 10 minutes later: 1,000 records/s; the victim is drained through its admin API, then terminated.
  clock.t += 10 * MIN;
  await workers.publish(1_000);
  const inDecision = await tick();
  expect(inDecision.action).toBe('scale-in');
  const victims = inDecision.drain;
  expect(victims).toHaveLength(1); // 1,000 records/s need 0.67 units: down to minUnits 2
  expect(inDecision.desiredUnits).toBe(2);
  const afterDrainStart = await under.provider.describe();
  for (const id of victims) {
    // Drained already (the worker answered), but not terminated: the target still counts it.
    expect(liveIds(afterDrainStart)).toContain(id);
    expect(steps).toContainEqual(
      expect.objectContaining({
        what: 'drain',
        instanceId: id,
        motoState: 'running',
        targetUnits: afterOut.targetUnits,
      }),
    );
  }
  expect(afterDrainStart.targetUnits).toBe(afterOut.targetUnits);
  const confirm = await tick();
  expect(confirm.action).toBe('hold');
  const afterIn = await under.provider.describe();
  expect(afterIn.targetUnits).toBe(afterOut.targetUnits - victims.length);
  expect(afterIn.targetUnits).toBe(inDecision.desiredUnits);
  for (const id of victims) {
    expect(liveIds(afterIn)).not.toContain(id);
    expect(await motoState(id)).toMatch(/shutting-down|terminated/);
    const drainAt = steps.findIndex((s) => s.what === 'drain' && s.instanceId === id);
    const terminateAt = steps.findIndex((s) => s.what === 'terminate' && s.instanceId === id);
    expect(drainAt).toBeGreaterThanOrEqual(0);
    expect(terminateAt).toBeGreaterThan(drainAt);
  }
  expect(log.of('terminated').map((r) => [r['instanceId'], r['how']])).toEqual(
    victims.map((id) => [id, 'drained']),
  );
  // Nothing was ever lowered through the target: only terminations with decrement shrank the fleet.
  expect(steps.filter((s) => s.what === 'set-target').map((s) => s.totalUnits)).toEqual([out.desiredUnits]);

  // 3. Interruption warning (EventBridge → SQS): the worker drains and its replacement is requested at once.
  clock.t += 10 * MIN;
  const capacity = afterIn.targetUnits;
  await workers.publish(capacity * 2 * PER_VCPU * 0.75); // in band: no other reason to act
  const doomed = liveIds(afterIn)[0]!;
  const put = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'aws.ec2',
          DetailType: SPOT_INTERRUPTION_DETAIL_TYPE,
          Detail: JSON.stringify({ 'instance-id': doomed, 'instance-action': 'terminate' }),
          Time: new Date(clock.now()),
        },
      ],
    }),
  );
  expect(put.FailedEntryCount ?? 0).toBe(0);
  const stepsBefore = steps.length;
  const warned = await tick();
  expect(warned.reasons.map((r) => r.code)).toContain('interruption-warning');
  expect(warned.desiredUnits).toBe(capacity + 1);
  const afterWarning = await under.provider.describe();
  // The replacement was asked for in the same tick, while the doomed instance is still in the fleet.
  expect(afterWarning.targetUnits).toBe(capacity + 1);
  expect(liveIds(afterWarning)).toContain(doomed);
  const unfilled = under.refillsAfterEc2Termination ? 0 : victims.length;
  expect(liveIds(afterWarning)).toHaveLength(capacity + 1 - unfilled);
  expect(afterWarning.instances.find((i) => i.instanceId === doomed)?.tags[DRAIN_REASON_TAG]).toBe(
    'interruption',
  );
  const newSteps = steps.slice(stepsBefore);
  expect(newSteps).toContainEqual(
    expect.objectContaining({ what: 'drain', instanceId: doomed, motoState: 'running' }),
  );
  expect(newSteps).toContainEqual({ what: 'set-target', totalUnits: capacity + 1 });
  await workers.sync(); // the window's data (published above) still holds: load unchanged
  const replaced = await tick();
  expect(replaced.action).toBe('hold');
  const afterReplacement = await under.provider.describe();
  expect(liveIds(afterReplacement)).not.toContain(doomed);
  expect(afterReplacement.targetUnits).toBe(capacity);
  expect(liveIds(afterReplacement)).toHaveLength(capacity - unfilled);
  expect(log.of('terminated').map((r) => [r['instanceId'], r['reason'], r['how']])).toContainEqual([
    doomed,
    'interruption',
    'drained',
  ]);
  // Every observation (fleet, CloudWatch, SQS, capacity reports) and action succeeded.
  expect(log.records.filter((r) => r.kind.endsWith('-failed'))).toEqual([]);
  expect(fleet.capacityReads).toBe(under.reportsCapacity ? ticks : 0); // once per tick
  expect(log.of('insufficient-capacity')).toEqual([]);
}

describe('Autoscaler loop against moto', () => {
  it('resizes a Spot Fleet request: CloudWatch in, scale-out, drain-then-terminate, interruption via SQS', async () => {
    await scenario(spotFleet);
  });

  it('resizes an Auto Scaling group with a mixed-instances policy the same way', async () => {
    await scenario(mixedInstancesGroup);
  });
});
