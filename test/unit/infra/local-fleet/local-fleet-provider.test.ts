import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseAutoscalerPolicy } from '../../../../autoscaler/policy/policy-schema.js';
import { DRAINING_TAG, InstanceNotFoundError } from '../../../../autoscaler/ports/index.js';
import { LocalFleetProvider, workerDocument } from '../../../../infra/local-fleet/local-fleet-provider.js';
import { localFleetSchema } from '../../../../infra/local-fleet/local-fleet-schema.js';

const fakeWorker = join(dirname(fileURLToPath(import.meta.url)), 'fake-worker.mjs');
const fleets: LocalFleetProvider[] = [];
afterEach(async () => {
  for (const f of fleets.splice(0)) await f.stopAll();
});

let portBase = 23000 + (process.pid % 50) * 20;
function fleet(initialUnits = 1): LocalFleetProvider {
  portBase += 20;
  const f = new LocalFleetProvider({
    config: localFleetSchema.parse({
      adminPortBase: portBase,
      imdsPortBase: portBase + 10,
      portSpan: 10,
      stateDir: mkdtempSync(join(tmpdir(), 'la-fleet-')),
      command: [process.execPath, fakeWorker],
      stopTimeoutMs: 5000,
    }),
    policy: parseAutoscalerPolicy({
      minUnits: 1,
      maxUnits: 8,
      instanceTypes: [
        { name: 'local.small', vcpu: 1, memoryGiB: 1, weight: 1 },
        { name: 'local.large', vcpu: 2, memoryGiB: 2, weight: 2 },
      ],
      pools: [
        { instanceType: 'local.small', availabilityZone: 'local-a' },
        { instanceType: 'local.large', availabilityZone: 'local-b' },
      ],
    }),
    baseDocument: { pipelines: [{ name: 'p' }], worker: { groupId: 'g' } },
    initialUnits,
  });
  fleets.push(f);
  return f;
}

async function until<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until every instance answers /readyz (its SIGTERM handler is installed by then). */
function readyFleet(f: LocalFleetProvider) {
  return until(async () => {
    const s = await f.describe();
    return s.instances.every((i) => i.state === 'ready') ? s : undefined;
  }, 'ready');
}

describe('LocalFleetProvider', () => {
  it('launches the initial capacity and reports workers ready once /readyz answers', async () => {
    const f = fleet(1);
    await f.start();
    const snap = await until(async () => {
      const s = await f.describe();
      return s.instances.every((i) => i.state === 'ready') ? s : undefined;
    }, 'ready');
    expect(snap.targetUnits).toBe(1);
    expect(snap.instances).toHaveLength(1);
    expect(snap.instances[0]).toMatchObject({ instanceType: 'local.small', weightUnits: 1, market: 'spot' });
    expect(snap.instances[0]!.readyTimeMs).toBeGreaterThanOrEqual(snap.instances[0]!.launchTimeMs);
  });

  it('follows a per-pool split with weighted types', async () => {
    const f = fleet(0);
    await f.setTargetCapacity({
      totalUnits: 3,
      perPool: { 'local.small@local-a': 1, 'local.large@local-b': 2 },
    });
    const snap = await f.describe();
    expect(snap.instances.map((i) => i.instanceType).sort()).toEqual(['local.large', 'local.small']);
    expect(snap.instances.reduce((a, i) => a + i.weightUnits, 0)).toBe(3);
    expect(snap.perPoolTargetUnits).toEqual({ 'local.small@local-a': 1, 'local.large@local-b': 2 });
  });

  it('terminate with decrement stops the worker (SIGTERM, exit 0) and does not replace it', async () => {
    const f = fleet(2);
    await f.start();
    const [victim] = (await readyFleet(f)).instances;
    await f.terminateInstance(victim!.instanceId, { decrementCapacity: true });
    expect(await f.instance(victim!.instanceId)!.exited).toBe(0);
    const snap = await f.describe();
    expect(snap.targetUnits).toBe(1);
    expect(snap.instances.filter((i) => i.state !== 'terminated')).toHaveLength(1);
    await expect(f.terminateInstance(victim!.instanceId, { decrementCapacity: true })).rejects.toBeInstanceOf(
      InstanceNotFoundError,
    );
  });

  it('replaces an instance that dies on its own, but not one that drained for the autoscaler', async () => {
    const f = fleet(2);
    await f.start();
    const [a, b] = (await readyFleet(f)).instances;
    f.instance(a!.instanceId)!.child!.kill('SIGKILL');
    await f.instance(a!.instanceId)!.exited;
    const replaced = await f.describe();
    expect(replaced.instances.filter((i) => i.state !== 'terminated')).toHaveLength(2);

    await f.tagInstance(b!.instanceId, { [DRAINING_TAG]: '1' });
    f.instance(b!.instanceId)!.child!.kill('SIGTERM');
    await f.instance(b!.instanceId)!.exited;
    const drained = await f.describe();
    expect(drained.instances.find((i) => i.instanceId === b!.instanceId)!.state).toBe('shutting-down');
    expect(drained.instances.filter((i) => i.state !== 'terminated')).toHaveLength(2);
    await f.terminateInstance(b!.instanceId, { decrementCapacity: true });
    const after = await f.describe();
    const gone = after.instances.find((i) => i.instanceId === b!.instanceId)!;
    expect(gone.state).toBe('terminated');
    expect(gone.tags[DRAINING_TAG]).toBeUndefined();
    expect(after.targetUnits).toBe(1);
  });

  it('writes each worker a config with its own id, admin port and metadata endpoint', async () => {
    const f = fleet(1);
    await f.start();
    const inst = f.instances()[0]!;
    const doc = parse(readFileSync(inst.configFile, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(doc['worker']).toMatchObject({
      id: inst.instanceId,
      groupId: 'g',
      admin: { port: inst.adminPort },
    });
    expect(doc['aws']!['imdsEndpoint']).toBe(`http://127.0.0.1:${inst.imdsPort}`);
    expect(await f.endpointOf(inst.instanceId)).toBe(`http://127.0.0.1:${inst.adminPort}`);
  });
});

describe('workerDocument', () => {
  it('keeps shared sections and leaves notices off when asked', () => {
    const doc = workerDocument(
      { kafka: { brokers: ['k:1'] }, autoscaler: { minUnits: 1 }, worker: { notices: { enabled: false } } },
      'w-1',
      19001,
      19401,
      { notices: false },
    );
    expect(doc['kafka']).toEqual({ brokers: ['k:1'] });
    expect(doc['autoscaler']).toBeUndefined();
    expect(doc['worker']).toMatchObject({
      id: 'w-1',
      admin: { host: '127.0.0.1', port: 19001 },
      notices: { enabled: false },
    });
    expect((doc['aws'] as Record<string, unknown>)['imdsEndpoint']).toBeUndefined();
  });
});
