import { spawn } from 'node:child_process';
import { workerEnv, workerNodeOptions } from '../worker/worker-node-options.js';

/**
 * True when this process runs with every V8 flag a worker process runs with (WORKER_V8_FLAGS),
 * given on its command line or in NODE_OPTIONS.
 */
export function hasWorkerFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env['NODE_OPTIONS'],
): boolean {
  const current = [...(nodeOptions ?? '').split(/\s+/), ...execArgv].filter((p) => p.length > 0).join(' ');
  return workerNodeOptions(current) === current;
}

/** `liveagg bench <name>` arguments that give the options `opts` (commander's camelCase keys) and `--json`. */
export function benchArgs(name: string, opts: Record<string, unknown>): string[] {
  const out = ['bench', name, '--json'];
  for (const [key, value] of Object.entries(opts)) {
    if (key === 'json' || value === undefined || value === false) continue;
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (value === true) out.push(flag);
    else out.push(flag, String(value));
  }
  return out;
}

/**
 * Runs `liveagg <args>` (a command printing one JSON document) in a child started the way this
 * process was (same node, loader flags and entry script) with a worker's NODE_OPTIONS, and
 * returns the document. Its stderr (progress, logs) passes through.
 */
export function runWithWorkerFlags(args: readonly string[]): Promise<unknown> {
  const entry = process.argv[1];
  if (!entry)
    return Promise.reject(new Error('no entry script (process.argv[1]) to run under the worker flags'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, entry, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: workerEnv(process.env),
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const text = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        reject(new Error(`liveagg ${args.join(' ')} under the worker flags exited with ${code ?? signal}`));
        return;
      }
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new Error(`liveagg ${args.join(' ')} under the worker flags printed no JSON document`));
      }
    });
  });
}
