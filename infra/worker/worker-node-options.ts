import v8 from 'node:v8';

/**
 * V8 flags every aggregator worker process runs with. A worker allocates a few short-lived objects per record
 * (the Kafka client's message objects, decoded fields), and a fetch's messages stay alive while its batch is
 * processed; with V8's default young generation (16 MiB semi-spaces) scavenges ran often enough to be ~14 % of a
 * worker's CPU in `liveagg bench aggregate`, copying those messages. 64 MiB semi-spaces cut the worker's CPU per
 * record by ~8 % (44.8 vs 48.6 CPU-s for 5M records); 128 MiB by another 15 % (5 alternating pairs of 5M-record
 * runs: 176.9 vs 207.6 CPU-s in all, lower in every pair) for ~145 MiB more peak resident memory (952 vs 808 MiB).
 * Applied through NODE_OPTIONS by everything that starts a worker: the systemd unit, the local fleet, the
 * benchmarks.
 */
export const WORKER_V8_FLAGS: readonly string[] = ['--max-semi-space-size=128'];

/**
 * V8 flags a worker sets on itself when it starts (`v8.setFlagsFromString`), because NODE_OPTIONS refuses them.
 *
 * `--no-allocation-site-pretenuring`: drains turn 16,384 closed rows at a time into result objects. When a
 * scavenge lands while part of such a batch is still alive, V8 saw a high survival rate at that allocation site and
 * began to allocate results straight into the old generation; the old generation then filled with garbage that only
 * a full mark-compact frees (403 → 46 MB), on V8's helper threads. In `liveagg bench core` 6 of 21 runs had such
 * drains (1.5–1.8 CPU-s against 0.7–1.0) without the flag, 0 of 13 with it (5 of them with the flag set this way;
 * alternating pairs, median 3.18M against 2.93M records per CPU second).
 */
export const WORKER_RUNTIME_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/**
 * Sets each of {@link WORKER_RUNTIME_V8_FLAGS} whose option the process's command line (`execArgv`) does not
 * already set, in either polarity; an operator's own choice stands. Returns the flags it set.
 */
export function applyWorkerRuntimeFlags(
  execArgv: readonly string[] = process.execArgv,
  set: (flag: string) => void = (flag) => v8.setFlagsFromString(flag),
): string[] {
  const applied: string[] = [];
  for (const flag of WORKER_RUNTIME_V8_FLAGS) {
    const name = booleanOptionName(flag);
    if (execArgv.some((arg) => booleanOptionName(arg) === name)) continue;
    set(flag);
    applied.push(flag);
  }
  return applied;
}

/** A V8 option's name without its value or `no-` prefix, `_` spelled `-`. */
function booleanOptionName(option: string): string {
  return optionName(option).replace(/^--no-/, '--');
}

/** NODE_OPTIONS for a worker: `current` plus each worker flag whose option it does not already set. */
export function workerNodeOptions(current: string | undefined): string {
  const parts = (current ?? '').split(/\s+/).filter((p) => p.length > 0);
  for (const flag of WORKER_V8_FLAGS) {
    const name = optionName(flag);
    if (!parts.some((p) => optionName(p) === name)) parts.push(flag);
  }
  return parts.join(' ');
}

/** A V8 option's name without its value, `_` spelled `-` (V8 accepts both). */
function optionName(option: string): string {
  return option.split('=')[0]!.replaceAll('_', '-');
}

/** `env` with NODE_OPTIONS for a worker process (see {@link workerNodeOptions}). */
export function workerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, NODE_OPTIONS: workerNodeOptions(env['NODE_OPTIONS']) };
}
