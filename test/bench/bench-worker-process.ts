import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { workerEnv } from '../../infra/worker/worker-node-options.js';

/** A `liveagg worker` child process started by a benchmark, with its admin API address. */
export interface BenchWorker {
  child: ChildProcess;
  adminPort: number;
  logFile: string;
}

/** A free TCP port on loopback (the OS picks it; released before the worker binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `liveagg worker --config FILE` the way this process was started (same node, same
 * loader flags, same entry script), so it works from source (tsx) and from dist alike.
 */
export function spawnWorker(configFile: string, adminPort: number, logFile: string): BenchWorker {
  const entry = process.argv[1];
  if (!entry) throw new Error('cannot start a worker: this process has no entry script (process.argv[1])');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...process.execArgv, entry, 'worker', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: workerEnv(process.env),
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { child, adminPort, logFile };
}

/** Samples of one worker's Prometheus counters that the benchmark reads. */
export interface WorkerSample {
  /** `topic|partition` → records fetched. */
  recordsByPartition: Map<string, number>;
  /** Aggregator busy seconds (applying records/partials). */
  aggregatorBusySeconds: number;
}

/** Scrapes `/metrics`; undefined while the admin API is not up yet. */
export async function sampleWorker(w: BenchWorker): Promise<WorkerSample | undefined> {
  let text: string;
  try {
    const res = await fetch(`http://127.0.0.1:${w.adminPort}/metrics`);
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  const sample: WorkerSample = { recordsByPartition: new Map(), aggregatorBusySeconds: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!] as const),
    );
    const value = Number(m[3]);
    if (m[1] === 'la_consumer_records_total') {
      sample.recordsByPartition.set(`${labels['topic']}|${labels['partition']}`, value);
    } else if (m[1] === 'la_busy_seconds_total' && labels['component'] === 'aggregator') {
      sample.aggregatorBusySeconds = value;
    }
  }
  return sample;
}

/** Kills the worker (SIGKILL) and waits for it to exit. */
export async function stopWorker(w: BenchWorker): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => w.child.once('exit', () => resolve()));
  w.child.kill('SIGKILL');
  await exited;
}

/** max / mean of non-negative loads (1 = perfectly even); 0 when there is no load. */
export function maxOverMean(loads: readonly number[]): number {
  const total = loads.reduce((a, b) => a + b, 0);
  if (loads.length === 0 || total === 0) return 0;
  return Math.max(...loads) / (total / loads.length);
}

/** Records (or partials) applied per pipeline over the partitions the worker owns, from `/status`. */
export async function appliedUpdates(w: BenchWorker): Promise<Map<string, number> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${w.adminPort}/status`);
    if (!res.ok) return undefined;
    const body = (await res.json()) as { partitions?: { pipelines?: { name: string; updates: number }[] }[] };
    const out = new Map<string, number>();
    for (const p of body.partitions ?? []) {
      for (const pl of p.pipelines ?? []) out.set(pl.name, (out.get(pl.name) ?? 0) + pl.updates);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Partitions the worker owns now (`topic|partition`), from its `/status`; undefined while not up. */
export async function ownedPartitions(w: BenchWorker): Promise<string[] | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${w.adminPort}/status`);
    if (!res.ok) return undefined;
    const body = (await res.json()) as { partitions?: { topic: string; partition: number }[] };
    return (body.partitions ?? []).map((p) => `${p.topic}|${p.partition}`);
  } catch {
    return undefined;
  }
}

/**
 * Waits until the workers together own exactly `expected` partitions, each worker some, and
 * the assignment is the same on two polls a second apart (the group has settled).
 */
export async function waitBalanced(
  workers: BenchWorker[],
  expected: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  while (Date.now() < deadline) {
    for (const w of workers) {
      if (w.child.exitCode !== null) throw new Error(`a bench worker exited; see ${w.logFile}`);
    }
    const owned = await Promise.all(workers.map(ownedPartitions));
    if (owned.every((o) => o !== undefined && o.length > 0)) {
      const all = (owned as string[][]).flat();
      const signature = owned.map((o) => [...(o ?? [])].sort().join(',')).join(';');
      if (new Set(all).size === expected && all.length === expected && signature === previous) return;
      previous = signature;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`bench workers did not settle on ${expected} partitions within ${timeoutMs} ms`);
}
