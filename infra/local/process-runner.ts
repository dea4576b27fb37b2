import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { type ServiceName, StackError } from './local-service.js';

/** Environment variable set on every process the stack starts; its value identifies the process. */
export const MARKER_ENV = 'LIVEAGG_STACK_MARKER';

export interface DetachedSpec {
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  /** The pid is written here. */
  pidFile: string;
  /**
   * Identifies the process as ours later (checked in /proc/<pid>/environ and cmdline), e.g.
   * `kafka@/abs/.stack`: a recycled pid of some other program is never taken for our service.
   */
  marker: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a child in its own process group (so stop() can signal the whole group), detached
 * from this process so it outlives the CLI, with output to `logFile` and its pid recorded.
 */
export function startDetached(spec: DetachedSpec): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...(spec.env ?? process.env), [MARKER_ENV]: spec.marker },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.on('error', () => {
      // Reported by the readiness wait (the process is not alive); keep node from throwing.
    });
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Parses a pid file's text: a positive integer, else undefined. */
export function parsePid(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** True when a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the process is alive, not a zombie, and carries our marker in its environment or command line. */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
  } catch {
    return false;
  }
  for (const f of ['environ', 'cmdline']) {
    try {
      const parts = readFileSync(`/proc/${pid}/${f}`, 'utf8').split('\0');
      if (parts.includes(`${MARKER_ENV}=${marker}`) || parts.some((p) => p.includes(marker))) return true;
    } catch {
      // Not readable: try the next source.
    }
  }
  return false;
}

/** The pid recorded in `pidFile` when that process is alive and ours; undefined otherwise. */
export function recordedPid(pidFile: string, marker: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = parsePid(readFileSync(pidFile, 'utf8'));
  return pid !== undefined && isOurProcess(pid, marker) ? pid : undefined;
}

/**
 * Stops a process group started by {@link startDetached}: SIGTERM, wait up to `graceMs`,
 * then SIGKILL. Resolves when the process is gone.
 */
export async function stopProcess(pid: number, graceMs = 15_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || isZombie(pid)) return;
    await sleep(100);
  }
  signal('SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && isAlive(pid) && !isZombie(pid)) await sleep(100);
}

function isZombie(pid: number): boolean {
  try {
    return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Removes a pid file (missing is fine). */
export function removePidFile(pidFile: string): void {
  rmSync(pidFile, { force: true });
}

/** VmRSS in bytes from the text of /proc/<pid>/status. */
export function parseVmRss(statusText: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Resident memory of a process in bytes, undefined when it cannot be read. */
export function rssBytes(pid: number): number | undefined {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** True when nothing listens on 127.0.0.1:`port` (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveFree) => {
    const srv = createServer();
    srv.once('error', () => resolveFree(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolveFree(true)));
  });
}

/** Throws a PORT_TAKEN {@link StackError} naming the port, the config key and the fix when the port is in use. */
export async function assertPortFree(service: ServiceName, port: number, configKey: string): Promise<void> {
  if (!(await isPortFree(port)))
    throw new StackError(
      service,
      'PORT_TAKEN',
      `port ${port} on 127.0.0.1 is taken by another process`,
      `stop that process (ss -ltnp 'sport = :${port}') or set ${configKey} in the config`,
    );
}

/**
 * Polls `condition` every `intervalMs` until it returns a value other than undefined/false, or
 * throws after `timeoutMs` naming `what` and the last error. `abort` may throw early (e.g. the
 * process died) to stop waiting.
 */
export async function waitFor<T>(
  condition: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  opts: { intervalMs?: number; abort?: () => void } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.abort?.();
    try {
      const v = await condition();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${why}`);
    }
    await sleep(opts.intervalMs ?? 500);
  }
}

/**
 * Runs `cmd args` and returns its combined stdout+stderr (e.g. `java -version` prints to stderr),
 * or undefined when the command is missing or fails.
 */
export function commandVersion(cmd: string, args: string[], timeoutMs = 20_000): Promise<string | undefined> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) res(undefined);
      else res(`${stdout}${stderr}`);
    });
  });
}

/** Runs a command to completion; resolves with its output, rejects with an Error carrying the output's tail. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (err) {
          const e = new Error(
            `${cmd} ${args.join(' ')} failed: ${err.message.split('\n')[0]}\n${lastLines(out, 15)}`,
          );
          (e as NodeJS.ErrnoException).code = (err as NodeJS.ErrnoException).code as string | undefined;
          rej(e);
        } else res(out);
      },
    );
  });
}

/** The last `n` non-empty lines of a text. */
export function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}

/** The last `n` lines of a log file ('' when missing). */
export function tailFile(file: string, n = 20): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), n);
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
