import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DecisionLogRecord } from '../../autoscaler/ports/decision-log.js';
import { type AutoscalerRuntime, buildAutoscaler } from '../autoscaler-run/build-autoscaler.js';
import { createCassandraClient, createKeyspaceCql } from '../cassandra/cassandra-client.js';
import { resultTablesCql } from '../cassandra/results-schema.js';
import type { LiveAggConfig } from '../config/config-schema.js';
import { parseConfig } from '../config/load-config.js';
import type { Dashboard } from '../dashboard/dashboard-server.js';
import { createKafka } from '../kafka/kafka-client.js';
import { projectRoot } from '../local/paths.js';
import { stackUp } from '../local/stack.js';
import type { Logger } from '../log/logger.js';
import { loadDemoTrace, type TimeCompression } from './bike-trace.js';
import { groupLag } from './group-lag.js';
import { LoadGenerator } from './load-generator.js';
import { compareCounts, differencesByPartition, readCounts } from './no-loss-check.js';
import { TraceForecastSource } from './trace-forecast-source.js';

/** The last line of `liveagg demo --json`. */
export interface DemoSummary {
  recordsProduced: number;
  recordsAggregated: number;
  scaleOuts: number;
  scaleIns: number;
  drains: number;
  interruptionsHandled: number;
  lost: number;
  duplicated: number;
}

export interface DemoOptions {
  /** Config file; default examples/demo/demo.yaml. */
  configFile?: string;
  /** Runs this long, then stops by itself; undefined = until `signal` aborts. */
  durationMs?: number;
  /** Wall time one replayed day takes; default 80 % of the duration (4 min without one). */
  dayMs?: number;
  /** Peak input, records/s (the trace's busiest hour is scaled to it). */
  peakRecordsPerSecond?: number;
  /** Dashboard port (0 = any free port). */
  uiPort?: number;
  /**
   * Interrupt a worker at this fraction of the run (default 0.25: during the morning peak, so that the
   * no-scale-in-after-interruption window has passed before the lunch lull and the evening decline).
   */
  interruptAt?: number;
  partitions?: number;
  signal?: AbortSignal;
  log: Logger;
  progress: (line: string) => void;
}

/** Runs the whole system on this machine; resolves with the summary once every worker has drained. */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const root = projectRoot();
  const file = opts.configFile ?? join(root, 'examples', 'demo', 'demo.yaml');
  const runId = `r${Date.now().toString(36)}`;
  const doc = withRunNames((parseYaml(await readFile(file, 'utf8')) ?? {}) as Record<string, unknown>, runId);
  const cfg = parseConfig(doc, file, process.env);
  const pipeline = cfg.pipelines[0];
  if (pipeline === undefined || pipeline.sink.type !== 'cassandra')
    throw new Error(`${file}: the demo needs one pipeline with a cassandra sink`);
  const topic = pipeline.source.topics[0]!;
  const windowMs = pipeline.windows[0]!;
  const partitions = opts.partitions ?? 8;

  opts.progress('demo: bringing the local stack up (reused if running)…');
  await stackUp(cfg.stack, (service, line) => opts.progress(`  ${service}: ${line}`));
  await createTopics(cfg, topic, partitions, opts.log);
  await applySchema(cfg, pipeline.sink.table);

  const trace = await loadDemoTrace();
  const peak = Math.max(...trace.day);
  const durationMs = opts.durationMs;
  const dayMs = opts.dayMs ?? (durationMs !== undefined ? durationMs * 0.8 : 240_000);
  const startMs = Date.now() + 2000;
  const compression: TimeCompression = {
    wallStartMs: startMs,
    traceStartMs: trace.dayStartMs,
    msPerHour: dayMs / 24,
    scale: (opts.peakRecordsPerSecond ?? 600) / peak,
  };
  const forecasts = new TraceForecastSource(trace, compression, topic);
  opts.progress(
    `demo: replaying ${new Date(trace.dayStartMs).toISOString().slice(0, 10)} of the bike-sharing trace, a day in ${Math.round(dayMs / 1000)} s, peak ${Math.round(peak * compression.scale)} records/s; forecast model ${forecasts.model}`,
  );

  const records: DecisionLogRecord[] = [];
  let dashboard: Dashboard | undefined;
  const rt = await buildAutoscaler(cfg, {
    document: doc,
    log: opts.log,
    forecasts,
    onFleetEvent: (e) => {
      if (e.kind === 'exited')
        dashboard?.state.note(
          e.atMs,
          'worker-exit',
          `${e.instanceId} exited with ${String(e.exitCode)}${e.exitCode === 0 ? ' (drained)' : ''}${e.requested ? '' : ', on its own'}`,
        );
      else if (e.kind === 'launched')
        dashboard?.state.note(e.atMs, 'launched', `${e.instanceId} (${e.instanceType}) launched`);
    },
  });
  rt.decisionLog.subscribe((r) => records.push(r));

  const kafka = createKafka(cfg.kafka, opts.log, '-demo-load');
  const load = new LoadGenerator({
    kafka,
    topic,
    partitions,
    stations: 64,
    runId,
    windowMs,
    day: trace.day,
    compression,
    onError: (e) => opts.log.warn({ err: String(e) }, 'load generator send failed'),
  });
  const { startDashboard } = await import('../dashboard/dashboard-server.js');
  const ui = await startDashboard({
    port: opts.uiPort ?? 19080,
    runtime: rt,
    inputRate: () => load.currentRate,
  });
  dashboard = ui;
  opts.progress(`demo: dashboard at ${ui.url}`);
  await load.start();

  const loop = new AbortController();
  const running = rt.autoscaler.run(loop.signal);
  const stopped = waitFor(opts.signal, durationMs);
  const interruptAfter = (durationMs ?? dayMs) * (opts.interruptAt ?? 0.25);
  const interruption = interruptWhenReady(rt, interruptAfter, opts, stopped.promise, (atMs, id) =>
    ui.state.note(
      atMs,
      'interruption',
      `spot interruption notice for ${id} (2 minutes; via its metadata endpoint)`,
    ),
  );

  await stopped.promise;
  opts.progress('demo: stopping the load; closing every window…');
  await interruption.catch((e: unknown) => opts.progress(`demo: interruption not injected: ${String(e)}`));
  await load.stop();
  await waitForGroup(cfg, topic, opts);
  const cassandra = createCassandraClient(cfg.cassandra);
  let check = compareCounts(load.produced, new Map());
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const aggregated = await readCounts(
        cassandra,
        cfg.cassandra.keyspace,
        pipeline.sink.table,
        runId,
        'minutes.count',
      );
      check = compareCounts(load.produced, aggregated);
      if (check.lost === 0 && check.duplicated === 0) break;
      if (Date.now() > deadline) {
        for (const d of differencesByPartition(load.produced, aggregated, (k) => load.partitionOf(k)))
          opts.log.error(
            {
              ...d,
              firstWindow: new Date(d.firstWindowMs).toISOString(),
              lastWindow: new Date(d.lastWindowMs).toISOString(),
            },
            'no-loss check: the sink differs from the input in this partition',
          );
        break;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await cassandra.shutdown().catch(() => undefined);
  }
  opts.progress('demo: draining every worker…');
  loop.abort();
  await running;
  await rt.autoscaler.settled();
  await rt.close();
  await ui.close();

  return {
    recordsProduced: load.recordsProduced,
    recordsAggregated: check.recordsAggregated,
    ...countEvents(records),
    interruptionsHandled: rt.local?.injector.injected.filter((i) => i.exitCode === 0).length ?? 0,
    lost: check.lost,
    duplicated: check.duplicated,
  };
}

/** Scale-outs, scale-ins and completed drains from the decision log. */
export function countEvents(records: readonly DecisionLogRecord[]): {
  scaleOuts: number;
  scaleIns: number;
  drains: number;
} {
  let scaleOuts = 0;
  let scaleIns = 0;
  let drains = 0;
  for (const r of records) {
    if (r.kind === 'set-target' && Number(r['totalUnits']) > Number(r['previousUnits'])) scaleOuts++;
    if (r.kind === 'terminated') {
      if (r['how'] === 'drained') drains++;
      if (r['reason'] === 'scale-in') scaleIns++;
    }
  }
  return { scaleOuts, scaleIns, drains };
}

/** Names of this run: its own topic, consumer group, checkpoint directory and decision log. */
function withRunNames(doc: Record<string, unknown>, runId: string): Record<string, unknown> {
  const out = structuredClone(doc);
  out['worker'] ??= {};
  const worker = out['worker'] as Record<string, unknown>;
  worker['groupId'] = `${String(worker['groupId'] ?? 'liveagg-demo')}-${runId}`;
  worker['checkpoint'] ??= {};
  const ckpt = worker['checkpoint'] as Record<string, unknown>;
  if (ckpt['store'] === 'local')
    ckpt['dir'] = `${String(ckpt['dir'] ?? '.liveagg/demo/checkpoints')}/${runId}`;
  for (const p of (out['pipelines'] ?? []) as Record<string, unknown>[]) {
    const source = p['source'] as { topics?: string[] } | undefined;
    if (source?.topics) source.topics = source.topics.map((t) => `${t}-${runId}`);
  }
  out['fleet'] ??= {};
  const fleet = out['fleet'] as Record<string, unknown>;
  fleet['decisionLogFile'] = `.liveagg/demo/${runId}-decisions.jsonl`;
  return out;
}

async function createTopics(
  cfg: LiveAggConfig,
  topic: string,
  partitions: number,
  log: Logger,
): Promise<void> {
  const admin = createKafka(cfg.kafka, log, '-demo-admin').admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      { topic, numPartitions: partitions, replicationFactor: 1 },
      {
        topic: cfg.worker?.deadLetterTopic ?? 'liveagg-dead-letters',
        numPartitions: 1,
        replicationFactor: 1,
      },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) await admin.createTopics({ topics: wanted, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function applySchema(cfg: LiveAggConfig, table: string): Promise<void> {
  const client = createCassandraClient(cfg.cassandra);
  try {
    await client.execute(createKeyspaceCql(cfg.cassandra.keyspace, cfg.cassandra.replicationFactor));
    for (const cql of resultTablesCql(cfg.cassandra.keyspace, table)) await client.execute(cql);
  } finally {
    await client.shutdown();
  }
}

/**
 * Waits until the workers' group has committed every record of the topic (so every window the end markers closed is in
 * the sink), showing the lag as it falls; gives up after a few minutes without progress, saying which partitions trail.
 */
async function waitForGroup(cfg: LiveAggConfig, topic: string, opts: DemoOptions): Promise<void> {
  const groupId = cfg.worker?.groupId ?? 'liveagg-workers';
  const admin = createKafka(cfg.kafka, opts.log, '-demo-lag').admin();
  await admin.connect();
  try {
    let best = Number.POSITIVE_INFINITY;
    let progressAt = Date.now();
    let shownAt = 0;
    for (;;) {
      const lag = await groupLag(admin, groupId, topic);
      if (lag.total === 0) return;
      if (lag.total < best) {
        best = lag.total;
        progressAt = Date.now();
      }
      if (Date.now() - shownAt > 10_000) {
        shownAt = Date.now();
        opts.progress(
          `demo: waiting for the workers to commit ${lag.total} more records (partitions ${lag.behind.map((b) => `${b.partition}:${b.lag}`).join(' ')})`,
        );
      }
      if (Date.now() - progressAt > 120_000) {
        opts.log.error(
          { groupId, topic, behind: lag.behind },
          'the workers stopped committing; checking the sink anyway',
        );
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Resolves when the duration passes or the signal aborts. */
function waitFor(
  signal: AbortSignal | undefined,
  durationMs: number | undefined,
): { promise: Promise<void> } {
  return {
    promise: new Promise<void>((done) => {
      if (durationMs !== undefined) setTimeout(done, durationMs).unref();
      if (signal?.aborted) return done();
      signal?.addEventListener('abort', () => done(), { once: true });
    }),
  };
}

/** After `afterMs`, interrupts a ready worker (preferring a moment when two or more are ready). */
async function interruptWhenReady(
  rt: AutoscalerRuntime,
  afterMs: number,
  opts: DemoOptions,
  stopped: Promise<void>,
  onInjected?: (atMs: number, instanceId: string) => void,
): Promise<void> {
  const local = rt.local;
  if (!local) return;
  let done = false;
  void stopped.then(() => {
    done = true;
  });
  const started = Date.now();
  await new Promise((r) => setTimeout(r, afterMs));
  while (!done) {
    const ready = local.fleet
      .instances()
      .filter((i) => i.state === 'ready' && i.tags['liveagg:draining'] === undefined);
    if (ready.length >= 2 || (ready.length >= 1 && Date.now() - started > afterMs + 20_000)) {
      const victim = ready[ready.length - 1]!;
      const rec = await local.injector.interrupt(victim.instanceId, 'imds');
      opts.progress(`demo: spot interruption notice sent to ${rec.instanceId} (via its metadata endpoint)`);
      onInjected?.(rec.issuedAtMs, rec.instanceId);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
