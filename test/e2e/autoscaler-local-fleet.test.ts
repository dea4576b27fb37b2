import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import type { DecisionLogRecord } from '../../autoscaler/ports/decision-log.js';
import { type AutoscalerRuntime, buildAutoscaler } from '../../infra/autoscaler-run/build-autoscaler.js';
import { createCassandraClient, createKeyspaceCql } from '../../infra/cassandra/cassandra-client.js';
import { resultTablesCql } from '../../infra/cassandra/results-schema.js';
import { createCheckpointStore } from '../../infra/checkpoint/create-checkpoint-store.js';
import { parseConfig } from '../../infra/config/load-config.js';
import type { LocalFleetEvent } from '../../infra/local-fleet/local-fleet-provider.js';
import { createLogger } from '../../infra/log/logger.js';
import {
  generateEvents,
  newScenario,
  produceEvents,
  referenceRows,
} from '../integration/helpers/aggregation-scenario.js';
import { eventually, repoRoot } from '../integration/helpers/cli-process.js';
import { kafkaClient, uniqueName } from '../integration/helpers/stack-endpoints.js';
import { expectExactly } from '../integration/helpers/worker-harness.js';
import {
  committedOffsets,
  describeGroup,
  freePortRange,
  localFleetDocument,
  ownedPartitions,
  PORT_SPAN,
  workerLogLines,
} from './helpers/local-fleet-scenario.js';

const PARTITIONS = 4;

/**
 * Issue 7's end-to-end test on one machine: the real `Autoscaler` loop (built by `buildAutoscaler`, as `liveagg
 * autoscaler` builds it) over the local FleetProvider, whose instances are `liveagg worker` processes consuming real
 * Kafka and writing to real Cassandra, with checkpoints in S3 (moto). The fleet starts at 2 workers; with no load
 * the policy (minUnits 1, short sustain, no cooldown) scales in to 1. The victim must be drained (its checkpoint
 * written by the drain, its partitions moved to the survivor) before it is stopped, and the final output must equal
 * an independent reference computed from the input: every count and sum, no row missing, none extra.
 *
 * Periodic checkpoints are off in effect (10-minute interval), so the only checkpoints of the victim's partitions
 * are the ones its drain writes: the survivor can only have the first half's state from those.
 */
describe('autoscaler on a local fleet of worker processes (end to end)', () => {
  it('scales in 2 → 1 by draining the victim first; its partitions move with their checkpoints; output is exact', async () => {
    const kafka = kafkaClient();
    const s = await newScenario(kafka, PARTITIONS);
    // 16 devices, 4 per partition, 10 readings a minute over 6 minutes: 240 records per partition.
    const events = generateEvents(s, 16, 10, 6, 53);
    const half = Math.ceil(events[0]!.length / 2);
    const firstHalfEnd = events.map((p) => Math.min(half, p.length));

    const adminPortBase = await freePortRange(2 * PORT_SPAN);
    // The decision log, the generated worker configs and the worker logs stay here for a failure's post-mortem.
    const dir = join(repoRoot, 'test-artifacts', 'e2e-fleet', uniqueName('run'));
    mkdirSync(dir, { recursive: true });
    onTestFailed(() => {
      console.error(`autoscaler-local-fleet: decision log, worker configs and logs in ${dir}`);
    });
    const clientId = uniqueName('la-e2e');
    const doc = localFleetDocument(
      s,
      { clientId, adminPortBase, imdsPortBase: adminPortBase + PORT_SPAN, dir },
      { checkpointIntervalMs: 600_000 },
    );
    const cfg = parseConfig(doc, 'autoscaler-local-fleet.test');
    const log = createLogger('e2e-autoscaler', 'warn');

    const cassandra = createCassandraClient(cfg.cassandra);
    try {
      await cassandra.execute(createKeyspaceCql(s.keyspace, 1));
      for (const cql of resultTablesCql(s.keyspace, 'results')) await cassandra.execute(cql);
    } finally {
      await cassandra.shutdown();
    }

    const fleetEvents: LocalFleetEvent[] = [];
    const records: DecisionLogRecord[] = [];
    let rt: AutoscalerRuntime | undefined;
    const loop = new AbortController();
    let running: Promise<void> | undefined;
    try {
      // Launches the two initial workers; the loop itself starts once the first half is in their state.
      rt = await buildAutoscaler(cfg, { document: doc, log, onFleetEvent: (e) => fleetEvents.push(e) });
      rt.decisionLog.subscribe((r) => records.push(r));
      const local = rt.local!;
      const fleet = local.fleet;
      const portOf = (id: string) => fleet.instance(id)!.adminPort;

      const ids = await eventually(
        async () => {
          const snap = await fleet.describe();
          const ready = snap.instances.filter((i) => i.state === 'ready').map((i) => i.instanceId);
          return ready.length === 2 ? ready : undefined;
        },
        90_000,
        'two ready workers',
      );
      // Both own partitions, together all of them once.
      await eventually(
        async () => {
          const owned = await Promise.all(ids.map(async (id) => ownedPartitions(portOf(id))));
          const all = owned.flat().map((p) => p.partition);
          return owned.every((o) => o.length > 0) &&
            all.length === PARTITIONS &&
            new Set(all).size === PARTITIONS
            ? true
            : undefined;
        },
        60_000,
        'the two workers sharing every partition',
      );

      await produceEvents(kafka, s, events, { to: half });
      const ownerBefore = await eventually(
        async () => {
          const owners = new Map<number, string>();
          for (const id of ids)
            for (const p of await ownedPartitions(portOf(id)))
              if (Number(p.nextOffset ?? -1) === firstHalfEnd[p.partition]) owners.set(p.partition, id);
          return owners.size === PARTITIONS ? owners : undefined;
        },
        60_000,
        'the first half applied on every partition',
      );

      // Now the loop: no load, minUnits 1 → it scales in after the (short) sustain window.
      running = rt.autoscaler.run(loop.signal);
      const terminated = await eventually(
        async () => records.find((r) => r.kind === 'terminated'),
        60_000,
        'a terminated record in the decision log',
      );
      const victim = String(terminated['instanceId']);
      const survivor = ids.find((id) => id !== victim)!;
      const victimPartitions = [...ownerBefore].filter(([, id]) => id === victim).map(([p]) => p);
      const movedPartitions = [...victimPartitions].sort((a, b) => a - b);

      // 1. The victim received a drain for the scale-in, completed (not forced), before it was terminated.
      expect(ids).toContain(victim);
      expect(terminated).toMatchObject({ reason: 'scale-in', how: 'drained' });
      const drainStartedAt = records.findIndex(
        (r) => r.kind === 'drain-started' && r['instanceId'] === victim && r['reason'] === 'scale-in',
      );
      expect(drainStartedAt).toBeGreaterThanOrEqual(0);
      expect(drainStartedAt).toBeLessThan(records.indexOf(terminated));
      const drainStarted = records[drainStartedAt]!;
      expect(
        records.some(
          (r) =>
            r.kind === 'decision' &&
            (r['decision'] as { action?: string; drain?: string[] }).action === 'scale-in' &&
            (r['decision'] as { drain?: string[] }).drain?.includes(victim),
        ),
      ).toBe(true);
      expect(records.filter((r) => r.kind === 'drain-forced' || r.kind === 'drain-retry')).toEqual([]);
      expect(victimPartitions.length).toBeGreaterThan(0);

      // 2. The drain checkpointed each of the victim's partitions: a manifest by the victim, written after the drain
      //    started, covering every record of the first half.
      const victimExit = await eventually(
        async () => fleetEvents.find((e) => e.kind === 'exited' && e.instanceId === victim),
        30_000,
        'the victim process exiting',
      );
      const store = createCheckpointStore(cfg.worker!.checkpoint, cfg.aws, log, 'e2e-reader');
      for (const partition of victimPartitions) {
        const manifests = await store.list({ pipeline: 'temps', topic: s.topic, partition });
        const byVictim = manifests.filter((m) => m.writer === victim);
        expect(
          byVictim.map((m) => m.nextOffset),
          `checkpoints by ${victim} of partition ${partition}`,
        ).toContain(String(firstHalfEnd[partition]));
        const drainCheckpoint = byVictim.find((m) => m.nextOffset === String(firstHalfEnd[partition]))!;
        expect(drainCheckpoint.createdAtMs).toBeGreaterThanOrEqual(drainStarted.atMs);
        expect(drainCheckpoint.createdAtMs).toBeLessThanOrEqual(victimExit.atMs);
        const ckptIds = terminated['checkpointIds'] as string[];
        if (ckptIds.length > 0) expect(ckptIds).toContain(drainCheckpoint.id);
      }
      // The drain committed those offsets, so the partitions' next owner starts right after them.
      const committed = await committedOffsets(kafka, s.groupId, s.topic, PARTITIONS);
      for (const p of victimPartitions) expect(committed[p]).toBe(firstHalfEnd[p]);

      // 3. The victim exited 0 on its own, only after its drain finished; it was stopped only after that too.
      expect(victimExit.exitCode).toBe(0);
      const victimLog = await workerLogLines(fleet.instance(victim)!.logFile);
      const drainDone = victimLog.filter(
        (l) => typeof l['msg'] === 'string' && l['msg'].startsWith('drain finished'),
      );
      expect(drainDone.map((l) => l['msg'])).toEqual(['drain finished']);
      const drainDoneAtMs = Date.parse(String(drainDone[0]!['time']));
      expect(drainDoneAtMs).toBeLessThanOrEqual(victimExit.atMs);
      const stopRequests = fleetEvents.filter(
        (e) => e.kind === 'terminate-requested' && e.instanceId === victim,
      );
      expect(stopRequests.length).toBe(1);
      expect(stopRequests[0]!.atMs).toBeGreaterThanOrEqual(drainDoneAtMs);

      // 4. Its partitions now belong to the survivor, restored from the drain's checkpoints; the fleet is at 1.
      await eventually(
        async () => {
          const owned = await ownedPartitions(portOf(survivor));
          const parts = owned.map((p) => p.partition).sort((a, b) => a - b);
          const restored = owned
            .filter((p) => movedPartitions.includes(p.partition))
            .every((p) => Number(p.nextOffset ?? -1) === firstHalfEnd[p.partition]);
          return parts.length === PARTITIONS && restored ? true : undefined;
        },
        60_000,
        `the survivor ${survivor} owning every partition, ${movedPartitions.join(', ')} restored`,
      );
      const group = await eventually(
        async () => {
          const g = await describeGroup(kafka, s.groupId, s.topic);
          return g.state === 'Stable' && g.members.length === 1 ? g : undefined;
        },
        30_000,
        'the consumer group stable with one member',
      );
      expect(group.members[0]).toEqual({
        clientId: `${clientId}-${survivor}`,
        partitions: Array.from({ length: PARTITIONS }, (_, p) => p),
      });
      const snap = await fleet.describe();
      expect(snap.targetUnits).toBe(1);
      expect(snap.instances.filter((i) => i.state !== 'terminated').map((i) => i.instanceId)).toEqual([
        survivor,
      ]);

      // 5. The rest of the input; the windows close; the sink equals the reference exactly.
      await produceEvents(kafka, s, events, { from: half, closeWindows: true });
      await expectExactly(s, referenceRows(events, s.windowMs));

      // Nothing else happened to the fleet: two launches, one drained scale-in, no forced drain.
      expect(fleetEvents.filter((e) => e.kind === 'launched').length).toBe(2);
      expect(records.filter((r) => r.kind === 'terminated').length).toBe(1);
      expect(records.filter((r) => r.kind === 'drain-forced').length).toBe(0);
    } finally {
      loop.abort();
      await running;
      await rt?.autoscaler.settled();
      await rt?.close();
    }
  }, 240_000);
});
