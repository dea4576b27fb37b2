import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalService, type ProgressReporter, type ServiceHealth, StackError } from './local-service.js';
import { projectRoot, type StackPaths, stackPaths } from './paths.js';
import {
  assertPortFree,
  commandVersion,
  isAlive,
  isPortFree,
  recordedPid,
  removePidFile,
  rssBytes,
  runCommand,
  startDetached,
  stopProcess,
  tailFile,
  waitFor,
} from './process-runner.js';
import { type StackConfig, stackConfigSchema } from './stack-config.js';

export const IMDS_MOCK_MODULE = 'github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock@v1.13.0';
/** A trigger time that never comes: the stack's mock serves metadata with no notice scheduled. */
const NEVER = '2099-01-01T00:00:00Z';

/** Arguments of the stack's long-running mock: all metadata paths, no spot notice, no rebalance. */
export function quietImdsArgs(port: number): string[] {
  return [
    '-n',
    '127.0.0.1',
    '-p',
    String(port),
    '--mock-trigger-time',
    NEVER,
    '--rebalance-trigger-time',
    NEVER,
  ];
}

export interface ImdsScenario {
  port: number;
  action: 'terminate' | 'stop' | 'hibernate';
  /** Seconds after process start when `spot/instance-action` appears. */
  delaySec: number;
  /** Seconds after process start when the rebalance recommendation appears; none when unset. */
  rebalanceDelaySec?: number;
}

/** Arguments of a scenario mock: a spot notice `delaySec` after start (and optionally a rebalance recommendation). */
export function scenarioImdsArgs(s: ImdsScenario): string[] {
  const args = ['spot', '-n', '127.0.0.1', '-p', String(s.port), '-a', s.action, '-d', String(s.delaySec)];
  if (s.rebalanceDelaySec !== undefined) args.push('--rebalance-delay-sec', String(s.rebalanceDelaySec));
  else args.push('--rebalance-trigger-time', NEVER);
  return args;
}

/** Fetches one metadata path with the IMDSv2 token flow; resolves with the HTTP status and body. */
export async function imdsGet(endpoint: string, path: string): Promise<{ status: number; body: string }> {
  const tokenRes = await fetch(`${endpoint}/latest/api/token`, {
    method: 'PUT',
    headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
    signal: AbortSignal.timeout(3000),
  });
  if (!tokenRes.ok) throw new Error(`IMDSv2 token request answered ${tokenRes.status}`);
  const token = await tokenRes.text();
  const res = await fetch(`${endpoint}${path}`, {
    headers: { 'X-aws-ec2-metadata-token': token },
    signal: AbortSignal.timeout(3000),
  });
  return { status: res.status, body: await res.text() };
}

function binaryPath(cacheDir: string): string {
  return join(cacheDir, 'bin', 'ec2-metadata-mock');
}

/** amazon-ec2-metadata-mock, built with `go install` into the cache. */
export class ImdsService implements LocalService {
  readonly name = 'imds' as const;
  private readonly paths: StackPaths;

  constructor(private readonly config: StackConfig) {
    this.paths = stackPaths(config);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.config.imdsPort}`;
  }

  private get marker(): string {
    return `liveagg-imds@${this.paths.stateDir}`;
  }

  async checkPrerequisites(): Promise<void> {
    if (existsSync(binaryPath(this.paths.cacheDir))) return;
    if ((await commandVersion('go', ['version'])) === undefined)
      throw new StackError(
        'imds',
        'GO_MISSING',
        'go not found',
        'install Go 1.22+ (apt-get install golang-go)',
      );
  }

  async preflight(): Promise<void> {
    if (this.runningPid() === undefined) await assertPortFree('imds', this.config.imdsPort, 'stack.imdsPort');
  }

  async install(progress: ProgressReporter): Promise<void> {
    const bin = binaryPath(this.paths.cacheDir);
    if (existsSync(bin)) return;
    progress('imds', `building ${IMDS_MOCK_MODULE} with go install`);
    try {
      await runCommand('go', ['install', IMDS_MOCK_MODULE], {
        env: { ...process.env, GOBIN: join(this.paths.cacheDir, 'bin'), GOFLAGS: '-mod=mod' },
        timeoutMs: 900_000,
      });
    } catch (err) {
      throw new StackError(
        'imds',
        'DOWNLOAD_FAILED',
        `go install ${IMDS_MOCK_MODULE} failed (${(err as Error).message.split('\n')[0]})`,
        `check access to the Go module proxy (GOPROXY) and the Go version, then rerun; go said: ${(err as Error).message.split('\n').slice(1).join(' | ')}`,
      );
    }
  }

  runningPid(): number | undefined {
    return recordedPid(this.paths.pidFile('imds'), this.marker);
  }

  async start(progress: ProgressReporter): Promise<void> {
    let pid = this.runningPid();
    if (pid !== undefined) progress('imds', `already running (pid ${pid}), checking it answers`);
    else {
      const port = this.config.imdsPort;
      if (!(await isPortFree(port)))
        throw new StackError(
          'imds',
          'PORT_TAKEN',
          `port ${port} on 127.0.0.1 is taken by another process`,
          `stop that process (ss -ltnp 'sport = :${port}') or set stack.imdsPort in the config`,
        );
      progress('imds', `starting the EC2 metadata mock on ${this.endpoint} (no notice scheduled)`);
      const dir = this.paths.serviceDir('imds');
      mkdirSync(dir, { recursive: true });
      pid = startDetached({
        command: binaryPath(this.paths.cacheDir),
        args: quietImdsArgs(port),
        logFile: this.paths.logFile('imds'),
        pidFile: this.paths.pidFile('imds'),
        marker: this.marker,
        cwd: dir,
        // Keeps the mock from reading a stray $HOME/aemm-config.json.
        env: { ...process.env, HOME: dir },
      });
    }
    const started = pid;
    try {
      await waitFor(
        async () => {
          const h = await this.health();
          if (!h.ok) throw new Error(h.error);
          return true;
        },
        this.config.readyTimeoutSec * 1000,
        `the metadata mock on ${this.endpoint} to answer instance-id`,
        {
          intervalMs: 200,
          abort: () => {
            if (!isAlive(started))
              throw new Error(`the mock exited: ${tailFile(this.paths.logFile('imds'), 5)}`);
          },
        },
      );
    } catch (err) {
      throw new StackError('imds', 'NOT_READY', (err as Error).message, `see ${this.paths.logFile('imds')}`);
    }
  }

  async health(): Promise<ServiceHealth> {
    const pid = this.runningPid();
    const base: ServiceHealth = { ok: false, endpoint: this.endpoint };
    if (pid !== undefined) {
      base.pid = pid;
      const rss = rssBytes(pid);
      if (rss !== undefined) base.rssBytes = rss;
    }
    try {
      const r = await imdsGet(this.endpoint, '/latest/meta-data/instance-id');
      if (r.status !== 200 || !r.body.startsWith('i-'))
        throw new Error(`instance-id answered ${r.status} ${r.body.slice(0, 80)}`);
      return { ...base, ok: true };
    } catch (err) {
      return { ...base, error: (err as Error).message };
    }
  }

  async stop(progress: ProgressReporter): Promise<void> {
    const pid = this.runningPid();
    if (pid !== undefined) {
      progress('imds', `stopping pid ${pid}`);
      await stopProcess(pid, 5_000);
    }
    removePidFile(this.paths.pidFile('imds'));
  }
}

/**
 * Starts a separate metadata mock for one test scenario (a spot notice `delaySec` after its
 * start), waits until it answers, and returns its endpoint and a stop function. The binary
 * must have been installed by `stack up` (the tests' global setup does that).
 */
export async function startImdsScenario(
  scenario: ImdsScenario,
  config: StackConfig = stackConfigSchema.parse({}),
): Promise<{ endpoint: string; pid: number; stop(): Promise<void> }> {
  const paths = stackPaths(config, projectRoot());
  const bin = binaryPath(paths.cacheDir);
  if (!existsSync(bin))
    throw new StackError('imds', 'NOT_INSTALLED', `${bin} is missing`, 'run `liveagg stack up` first');
  if (!(await isPortFree(scenario.port)))
    throw new StackError(
      'imds',
      'PORT_TAKEN',
      `port ${scenario.port} is taken`,
      'pick another scenario port',
    );
  const dir = join(paths.stateDir, 'imds-scenarios');
  const marker = `liveagg-imds-scenario-${scenario.port}-${process.pid}-${Date.now()}`;
  const pid = startDetached({
    command: bin,
    args: scenarioImdsArgs(scenario),
    logFile: join(dir, `${scenario.port}.log`),
    pidFile: join(dir, `${scenario.port}.pid`),
    marker,
    cwd: paths.stateDir,
    env: { ...process.env, HOME: dir },
  });
  const endpoint = `http://127.0.0.1:${scenario.port}`;
  const stop = async () => {
    await stopProcess(pid, 3000);
    removePidFile(join(dir, `${scenario.port}.pid`));
  };
  try {
    await waitFor(
      async () => (await imdsGet(endpoint, '/latest/meta-data/instance-id')).status === 200,
      15_000,
      `the scenario metadata mock on ${endpoint}`,
      { intervalMs: 100 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, pid, stop };
}
