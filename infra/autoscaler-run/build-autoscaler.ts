import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Autoscaler } from '../../autoscaler/control/autoscaler.js';
import { type CapacityModel, capacityModelFromThroughput } from '../../autoscaler/plan/plan-types.js';
import type { AutoscalerPolicy } from '../../autoscaler/policy/policy-schema.js';
import { type Clock, systemClock } from '../../autoscaler/ports/clock.js';
import type { FleetProvider } from '../../autoscaler/ports/fleet-provider.js';
import type { ForecastSource } from '../../autoscaler/ports/forecast-source.js';
import type { InterruptionSource } from '../../autoscaler/ports/interruption-source.js';
import type { MetricsSource } from '../../autoscaler/ports/metrics-source.js';
import type { WorkerControl } from '../../autoscaler/ports/worker-control.js';
import { AsgFleetProvider } from '../aws/asg-fleet-provider.js';
import {
  createAutoScalingClient,
  createCloudWatchClient,
  createEc2Client,
  createSqsClient,
} from '../aws/aws-clients.js';
import { CloudWatchMetricsSource } from '../aws/cloudwatch-metrics-source.js';
import { CloudWatchPublisher } from '../aws/cloudwatch-publisher.js';
import { Ec2FleetProvider } from '../aws/ec2-fleet-provider.js';
import { RetryingFleetProvider } from '../aws/retrying-fleet-provider.js';
import { SpotFleetProvider } from '../aws/spot-fleet-provider.js';
import { SqsInterruptionSource } from '../aws/sqs-interruption-source.js';
import type { LiveAggConfig } from '../config/config-schema.js';
import { WorkerControlClient } from '../http/worker-control-client.js';
import { type LocalFleetEvent, LocalFleetProvider } from '../local-fleet/local-fleet-provider.js';
import { InterruptionInjector, LocalInterruptionSource } from '../local-fleet/local-interruptions.js';
import { LocalWorkerControl } from '../local-fleet/local-worker-control.js';
import type { Logger } from '../log/logger.js';
import { PrometheusMetricsSource } from '../metrics/prometheus-metrics-source.js';
import { JsonlDecisionLog } from './jsonl-decision-log.js';
import { PromAutoscalerGauges } from './prom-autoscaler-gauges.js';

/** The local fleet's pieces, when the config runs one. */
export interface LocalParts {
  fleet: LocalFleetProvider;
  interruptions: LocalInterruptionSource;
  injector: InterruptionInjector;
}

/** Everything `liveagg autoscaler` (and the demo) runs. */
export interface AutoscalerRuntime {
  autoscaler: Autoscaler;
  policy: AutoscalerPolicy;
  fleet: FleetProvider;
  metrics: MetricsSource;
  workers: WorkerControl;
  decisionLog: JsonlDecisionLog;
  gauges: PromAutoscalerGauges;
  model: CapacityModel;
  local?: LocalParts;
  /** Publishes the loop's own metrics to CloudWatch (AWS fleets unless `fleet.cloudwatch.enabled` is false). */
  publisher?: CloudWatchPublisher;
  /** Stops what the runtime started (local workers drain; metadata mocks stop; the log is flushed). */
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Raw config document (for the local workers' configs). */
  document: Record<string, unknown>;
  log: Logger;
  dryRun?: boolean;
  decisionLogFile?: string;
  forecasts?: ForecastSource;
  clock?: Clock;
  onFleetEvent?: (e: LocalFleetEvent) => void;
  /** Overrides of the local fleet's start (the demo starts it itself). */
  startLocalFleet?: boolean;
}

/** Builds the loop with the adapters the config names: the local fleet of worker processes, or AWS. */
export async function buildAutoscaler(cfg: LiveAggConfig, opts: BuildOptions): Promise<AutoscalerRuntime> {
  const clock = opts.clock ?? systemClock;
  const policy: AutoscalerPolicy = { ...cfg.autoscaler, dryRun: opts.dryRun ?? cfg.autoscaler.dryRun };
  const run = cfg.fleet;
  const gauges = new PromAutoscalerGauges();
  const decisionLog = new JsonlDecisionLog(opts.decisionLogFile ?? run.decisionLogFile);
  const model = capacityModelFromThroughput(
    Object.fromEntries(Object.entries(run.recordsPerSecondPerVcpu).map(([type, perVcpu]) => [type, perVcpu])),
  );

  let fleet: FleetProvider;
  let interruptions: InterruptionSource;
  let endpointOf: (id: string) => Promise<string | undefined>;
  let targets: () => Promise<{ instanceId: string; instanceType: string; url: string }[]>;
  let local: LocalParts | undefined;

  if (run.provider === 'local') {
    const localFleet = new LocalFleetProvider({
      config: run.local,
      policy,
      baseDocument: opts.document,
      initialUnits: policy.dryRun ? 0 : Math.max(run.initialUnits, policy.minUnits),
      ...(opts.onFleetEvent ? { onEvent: opts.onFleetEvent } : {}),
    });
    const source = new LocalInterruptionSource();
    local = {
      fleet: localFleet,
      interruptions: source,
      injector: new InterruptionInjector({ fleet: localFleet, source }),
    };
    fleet = localFleet;
    interruptions = source;
    endpointOf = (id) => localFleet.endpointOf(id);
    targets = async () =>
      localFleet
        .instances()
        .filter((i) => i.state === 'ready' || i.state === 'running' || i.state === 'shutting-down')
        .filter((i) => i.exitCode === undefined)
        .map((i) => ({
          instanceId: i.instanceId,
          instanceType: i.instanceType,
          url: `http://127.0.0.1:${i.adminPort}/metrics`,
        }));
    if (opts.startLocalFleet !== false) await localFleet.start();
  } else {
    const ec2 = createEc2Client(cfg.aws);
    const name = run.name!;
    const inner: FleetProvider =
      run.provider === 'asg'
        ? new AsgFleetProvider(createAutoScalingClient(cfg.aws), ec2, {
            groupName: name,
            ...(run.terminationHookName ? { terminationHookName: run.terminationHookName } : {}),
          })
        : run.provider === 'spot-fleet'
          ? new SpotFleetProvider(ec2, { spotFleetRequestId: name })
          : new Ec2FleetProvider(ec2, { fleetId: name });
    fleet = new RetryingFleetProvider(inner, clock);
    interruptions = run.interruptionQueueUrl
      ? new SqsInterruptionSource(createSqsClient(cfg.aws), { queueUrl: run.interruptionQueueUrl })
      : { poll: async () => [], acknowledge: async () => {} };
    const ips = new Map<string, string>();
    endpointOf = async (id) => {
      if (!ips.has(id)) {
        const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
        const ip = out.Reservations?.[0]?.Instances?.[0]?.PrivateIpAddress;
        if (ip === undefined) return undefined;
        ips.set(id, ip);
      }
      return `http://${ips.get(id)}:${run.workerAdminPort}`;
    };
    targets = async () => {
      const snap = await fleet.describe();
      const out = [];
      for (const i of snap.instances) {
        if (i.state === 'terminated' || i.state === 'pending') continue;
        const base = await endpointOf(i.instanceId).catch(() => undefined);
        if (base)
          out.push({ instanceId: i.instanceId, instanceType: i.instanceType, url: `${base}/metrics` });
      }
      return out;
    };
  }

  const metrics: MetricsSource =
    run.metrics === 'cloudwatch'
      ? new CloudWatchMetricsSource(createCloudWatchClient(cfg.aws))
      : new PrometheusMetricsSource({
          targets,
          clock,
          bootstrapMs: 2000,
          onScrapeError: (t, e) =>
            opts.log.debug({ instance: t.instanceId, err: String(e) }, 'scrape failed'),
        });
  const client = new WorkerControlClient({
    endpointOf,
    ...(run.adminToken ? { token: run.adminToken } : {}),
  });
  const workers: WorkerControl = local ? new LocalWorkerControl(client, local.fleet) : client;
  const autoscaler = new Autoscaler({
    fleet,
    metrics,
    interruptions,
    workers,
    decisionLog,
    clock,
    policy,
    gauges,
    baseModel: model,
    ...(opts.forecasts ? { forecasts: opts.forecasts } : {}),
  });
  const publisher =
    !policy.dryRun && (run.cloudwatch.enabled ?? run.provider !== 'local')
      ? new CloudWatchPublisher(createCloudWatchClient(cfg.aws), gauges.registry, {
          // The alarms aggregate over the namespace; these dimensions only tell the autoscaler's series apart.
          instanceId: `autoscaler/${run.name ?? 'local'}`,
          instanceType: 'autoscaler',
        })
      : undefined;
  const publish = () =>
    publisher
      ?.publish()
      .catch((err: unknown) =>
        opts.log.warn({ err: (err as Error).message }, 'CloudWatch publish of the autoscaler metrics failed'),
      );
  const publishTimer = publisher ? setInterval(publish, run.cloudwatch.intervalMs) : undefined;
  publishTimer?.unref();
  return {
    autoscaler,
    policy,
    fleet,
    metrics,
    workers,
    decisionLog,
    gauges,
    model,
    ...(local ? { local } : {}),
    ...(publisher ? { publisher } : {}),
    close: async () => {
      clearInterval(publishTimer);
      await publish(); // a drain forced just before the stop still reaches the alarm
      if (local) {
        await local.fleet.stopAll();
        await local.injector.close();
      }
      await decisionLog.close();
    },
  };
}
