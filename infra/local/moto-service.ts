import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { type LocalService, type ProgressReporter, type ServiceHealth, StackError } from './local-service.js';
import { type StackPaths, stackPaths } from './paths.js';
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
import type { StackConfig } from './stack-config.js';

/** Pinned so a fresh cache gets the server the tests were written against. */
export const MOTO_REQUIREMENT = 'moto[server]==5.2.5';

/** moto in server mode (S3, EC2, Auto Scaling, CloudWatch, SQS, EventBridge) from a virtualenv in the cache. */
export class MotoService implements LocalService {
  readonly name = 'aws' as const;
  private readonly paths: StackPaths;

  constructor(private readonly config: StackConfig) {
    this.paths = stackPaths(config);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.config.awsPort}`;
  }

  private get marker(): string {
    return `liveagg-aws@${this.paths.stateDir}`;
  }

  private get venv(): string {
    return join(this.paths.cacheDir, 'moto-venv');
  }

  private get installedMarker(): string {
    return join(this.venv, '.liveagg-complete');
  }

  async checkPrerequisites(): Promise<void> {
    if (existsSync(this.installedMarker)) return;
    if ((await commandVersion('python3', ['--version'])) === undefined)
      throw new StackError('aws', 'PYTHON_MISSING', 'python3 not found', 'install python3 and python3-venv');
    if ((await commandVersion('python3', ['-c', 'import venv, ensurepip'])) === undefined)
      throw new StackError(
        'aws',
        'VENV_MISSING',
        'python3 cannot create virtualenvs (venv/ensurepip missing)',
        'install python3-venv (apt-get install python3-venv)',
      );
  }

  async preflight(): Promise<void> {
    if (this.runningPid() === undefined) await assertPortFree('aws', this.config.awsPort, 'stack.awsPort');
  }

  async install(progress: ProgressReporter): Promise<void> {
    if (existsSync(this.installedMarker)) return;
    progress('aws', `creating a virtualenv and installing ${MOTO_REQUIREMENT}`);
    mkdirSync(this.paths.cacheDir, { recursive: true });
    try {
      await runCommand('python3', ['-m', 'venv', '--clear', this.venv]);
      await runCommand(join(this.venv, 'bin', 'pip'), [
        'install',
        '--quiet',
        '--disable-pip-version-check',
        MOTO_REQUIREMENT,
      ]);
    } catch (err) {
      throw new StackError(
        'aws',
        'DOWNLOAD_FAILED',
        `installing ${MOTO_REQUIREMENT} failed (${(err as Error).message.split('\n')[0]})`,
        `check access to PyPI (pip config), then rerun; pip said: ${(err as Error).message.split('\n').slice(1).join(' | ')}`,
      );
    }
    await runCommand(join(this.venv, 'bin', 'python'), ['-c', 'import moto.server']).catch((err: Error) => {
      throw new StackError(
        'aws',
        'INSTALL_BROKEN',
        `moto does not import: ${err.message}`,
        `remove ${this.venv} and rerun`,
      );
    });
    writeFileSync(this.installedMarker, `${MOTO_REQUIREMENT}\n`);
  }

  /** Pid of the moto server this stack started, if running. */
  runningPid(): number | undefined {
    return recordedPid(this.paths.pidFile('aws'), this.marker);
  }

  async start(progress: ProgressReporter): Promise<void> {
    const timeoutMs = this.config.readyTimeoutSec * 1000;
    let pid = this.runningPid();
    if (pid !== undefined) {
      progress('aws', `already running (pid ${pid}), checking it answers`);
    } else {
      const port = this.config.awsPort;
      if (!(await isPortFree(port)))
        throw new StackError(
          'aws',
          'PORT_TAKEN',
          `port ${port} on 127.0.0.1 is taken by another process`,
          `stop that process (ss -ltnp 'sport = :${port}') or set stack.awsPort in the config`,
        );
      progress('aws', `starting moto on ${this.endpoint}`);
      mkdirSync(this.paths.serviceDir('aws'), { recursive: true });
      pid = startDetached({
        command: join(this.venv, 'bin', 'moto_server'),
        args: ['-H', '127.0.0.1', '-p', String(port)],
        logFile: this.paths.logFile('aws'),
        pidFile: this.paths.pidFile('aws'),
        marker: this.marker,
        cwd: this.paths.serviceDir('aws'),
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
        timeoutMs,
        `moto on ${this.endpoint} to answer S3 ListBuckets`,
        {
          intervalMs: 300,
          abort: () => {
            if (!isAlive(started)) throw new Error(`moto exited: ${tailFile(this.paths.logFile('aws'), 5)}`);
          },
        },
      );
    } catch (err) {
      throw new StackError('aws', 'NOT_READY', (err as Error).message, `see ${this.paths.logFile('aws')}`);
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
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
      requestHandler: { requestTimeout: 5000, connectionTimeout: 2000 },
    });
    try {
      await s3.send(new ListBucketsCommand({}));
      return { ...base, ok: true };
    } catch (err) {
      return { ...base, error: `S3 ListBuckets failed: ${(err as Error).message}` };
    } finally {
      s3.destroy();
    }
  }

  async stop(progress: ProgressReporter): Promise<void> {
    const pid = this.runningPid();
    if (pid !== undefined) {
      progress('aws', `stopping pid ${pid}`);
      await stopProcess(pid, 10_000);
    }
    removePidFile(this.paths.pidFile('aws'));
  }
}
