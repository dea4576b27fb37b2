import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quietImdsArgs, scenarioImdsArgs } from '../../../../infra/local/imds-service.js';
import { parseJavaMajor } from '../../../../infra/local/java-home.js';
import type {
  LocalService,
  ProgressReporter,
  ServiceHealth,
  ServiceName,
} from '../../../../infra/local/local-service.js';
import { StackError } from '../../../../infra/local/local-service.js';
import { renderPom } from '../../../../infra/local/maven-fetch.js';
import { findProjectRoot, stackPaths } from '../../../../infra/local/paths.js';
import { stackDown, stackUp } from '../../../../infra/local/stack.js';
import { stackConfigSchema } from '../../../../infra/local/stack-config.js';

describe('parseJavaMajor', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "25" 2025-09-16', 25],
    ['java version "1.8.0_392"', 8],
  ])('%s → %d', (text, major) => {
    expect(parseJavaMajor(text)).toBe(major);
  });
  it('is undefined for unrelated output', () => {
    expect(parseJavaMajor('command not found')).toBeUndefined();
  });
});

describe('renderPom', () => {
  it('lists each coordinate as a dependency', () => {
    const pom = renderPom('kafka', ['org.apache.kafka:kafka_2.13:4.1.1']);
    expect(pom).toContain(
      '<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>4.1.1</version></dependency>',
    );
  });
  it('rejects a coordinate without a version', () => {
    expect(() => renderPom('x', ['org.example:thing'])).toThrow(/groupId:artifactId:version/);
  });
});

describe('paths', () => {
  it('finds the project root from a nested folder and resolves relative cache/state folders against it', () => {
    const root = mkdtempSync(join(tmpdir(), 'la-root-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'live-aggregators' }));
    mkdirSync(join(root, 'dist', 'infra', 'local'), { recursive: true });
    expect(findProjectRoot(join(root, 'dist', 'infra', 'local'))).toBe(root);
    const p = stackPaths({ cacheDir: '.cache', stateDir: '/abs/state' }, root);
    expect(p.cacheDir).toBe(join(root, '.cache'));
    expect(p.pidFile('kafka')).toBe('/abs/state/kafka/kafka.pid');
  });
});

describe('metadata mock arguments', () => {
  it('the stack instance schedules neither a spot notice nor a rebalance recommendation', () => {
    const args = quietImdsArgs(11338);
    expect(args).toEqual(expect.arrayContaining(['-n', '127.0.0.1', '-p', '11338']));
    expect(args[args.indexOf('--mock-trigger-time') + 1]).toMatch(/^2099/);
    expect(args[args.indexOf('--rebalance-trigger-time') + 1]).toMatch(/^2099/);
  });
  it('a scenario runs the spot command with its action and delays', () => {
    expect(scenarioImdsArgs({ port: 20001, action: 'hibernate', delaySec: 2, rebalanceDelaySec: 1 })).toEqual(
      ['spot', '-n', '127.0.0.1', '-p', '20001', '-a', 'hibernate', '-d', '2', '--rebalance-delay-sec', '1'],
    );
  });
});

/** A hand-written fake service: records calls, can fail its start, reports as running when told. */
class FakeService implements LocalService {
  calls: string[] = [];
  constructor(
    readonly name: ServiceName,
    private running = false,
    private readonly failStart = false,
  ) {}
  async checkPrerequisites(): Promise<void> {
    this.calls.push('check');
  }
  async install(_p: ProgressReporter): Promise<void> {
    this.calls.push('install');
  }
  async start(_p: ProgressReporter): Promise<void> {
    this.calls.push('start');
    if (this.failStart) throw new StackError(this.name, 'NOT_READY', 'did not answer', 'see the log');
    this.running = true;
  }
  async health(): Promise<ServiceHealth> {
    return this.running ? { ok: true, endpoint: 'e', pid: 42 } : { ok: false, endpoint: 'e', error: 'down' };
  }
  async stop(_p: ProgressReporter): Promise<void> {
    this.calls.push('stop');
    this.running = false;
  }
}

describe('stackUp / stackDown', () => {
  const config = stackConfigSchema.parse({});
  const quiet: ProgressReporter = () => {};

  it('reuses a running service without installing it and reports what it started', async () => {
    const kafka = new FakeService('kafka', true);
    const aws = new FakeService('aws');
    const result = await stackUp(config, quiet, [kafka, aws]);
    expect(result.reused).toEqual(['kafka']);
    expect(result.started).toEqual(['aws']);
    expect(kafka.calls).not.toContain('install');
    expect(aws.calls).toEqual(['check', 'install', 'start']);
  });

  it('uses a healthy service another checkout started (no pid of ours) as it is: no preflight, install or start', async () => {
    const kafka = new FakeService('kafka');
    Object.assign(kafka, {
      health: async (): Promise<ServiceHealth> => ({ ok: true, endpoint: 'e' }),
      preflight: async () => {
        throw new StackError('kafka', 'PORT_TAKEN', 'port 19092 on 127.0.0.1 is taken', 'stop it');
      },
    });
    const aws = new FakeService('aws');
    const lines: string[] = [];
    const result = await stackUp(config, (name, line) => lines.push(`${name}: ${line}`), [kafka, aws]);
    expect(result.reused).toEqual(['kafka']);
    expect(result.started).toEqual(['aws']);
    expect(kafka.calls).toEqual(['check']);
    expect(lines).toContain('kafka: answering on its port, started elsewhere: reused as it is');
  });

  it('on a failed start stops what this call started, leaves reused services alone, rethrows', async () => {
    const kafka = new FakeService('kafka', true);
    const aws = new FakeService('aws');
    const imds = new FakeService('imds', false, true);
    await expect(stackUp(config, quiet, [kafka, aws, imds])).rejects.toThrow(/imds: did not answer/);
    expect(aws.calls).toContain('stop');
    expect(imds.calls).toContain('stop');
    expect(kafka.calls).not.toContain('stop');
  });

  it('a failed preflight (a taken port) ends up before anything is installed or started', async () => {
    const kafka = new FakeService('kafka');
    const aws = new FakeService('aws');
    Object.assign(aws, {
      preflight: async () => {
        throw new StackError('aws', 'PORT_TAKEN', 'port 15000 on 127.0.0.1 is taken', 'stop it');
      },
    });
    await expect(stackUp(config, quiet, [kafka, aws])).rejects.toThrow(/aws: port 15000/);
    expect(kafka.calls).toEqual(['check']);
    expect(aws.calls).toEqual(['check']);
  });

  it('down with a list stops only those services', async () => {
    const kafka = new FakeService('kafka', true);
    const aws = new FakeService('aws', true);
    await stackDown(config, quiet, ['aws'], [kafka, aws]);
    expect(aws.calls).toEqual(['stop']);
    expect(kafka.calls).toEqual([]);
  });
});
