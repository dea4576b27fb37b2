import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../infra/config/config-error.js';
import { envOverrides, loadConfig, parseConfig } from '../../../../infra/config/load-config.js';

describe('config loading', () => {
  it('fills defaults that point at the local stack', () => {
    const cfg = parseConfig({}, 'test');
    expect(cfg.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(cfg.stack.cassandraPort).toBe(19042);
  });

  it('names the bad field, the value and what was expected', () => {
    const bad = () =>
      parseConfig({ stack: { kafkaPort: 80 }, kafka: { brokers: ['nohostport'] } }, 'cfg.yaml');
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems).toContain('stack.kafkaPort: 80 is below 1024');
      expect(problems).toContain('kafka.brokers.0: "nohostport" is not host:port');
    }
  });

  it('bounds what a closing window may hold as result objects: rows per sink write and writes queued', () => {
    const worker = { checkpoint: { store: 'local', dir: '/tmp/ck' } };
    const sink = parseConfig({ worker }, 'test').worker!.sink;
    expect(sink.maxRowsPerWrite).toBe(16_384);
    expect(sink.maxPendingWrites).toBe(8);
    try {
      parseConfig({ worker: { ...worker, sink: { maxRowsPerWrite: 0, maxPendingWrites: 2.5 } } }, 'cfg.yaml');
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(/worker\.sink\.maxRowsPerWrite: 0 /);
      expect(problems).toMatch(/worker\.sink\.maxPendingWrites: 2\.5 /);
    }
  });

  it('rejects unknown keys so a typo names itself', () => {
    expect(() => parseConfig({ kafak: {} }, 'cfg.yaml')).toThrow(/kafak/);
  });

  it('requires an admin token when the worker admin API leaves loopback', () => {
    expect(() =>
      parseConfig(
        { worker: { admin: { host: '0.0.0.0' }, checkpoint: { store: 'local', dir: '/tmp' } } },
        'c',
      ),
    ).toThrow('worker.admin.token: is required when admin.host is not a loopback address');
  });

  it('applies LIVEAGG__ environment overrides over the file', async () => {
    expect(
      envOverrides({ LIVEAGG__KAFKA__BROKERS: 'a:1,b:2', LIVEAGG__STACK__KAFKA_PORT: '20000', OTHER: 'x' }),
    ).toEqual({
      kafka: { brokers: ['a:1', 'b:2'] },
      stack: { kafkaPort: 20000 },
    });
    const dir = await mkdtemp(join(tmpdir(), 'liveagg-cfg-'));
    const file = join(dir, 'c.yaml');
    await writeFile(file, 'kafka:\n  brokers: ["x:1"]\n');
    const cfg = await loadConfig(file, { LIVEAGG__KAFKA__CLIENT_ID: 'fromenv' });
    expect(cfg.kafka).toMatchObject({ brokers: ['x:1'], clientId: 'fromenv' });
  });

  it('reports unreadable files and broken YAML as config errors', async () => {
    await expect(loadConfig('/nonexistent/liveagg.yaml', {})).rejects.toThrow(/cannot read the file/);
    const dir = await mkdtemp(join(tmpdir(), 'liveagg-cfg-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'kafka: [unclosed\n');
    await expect(loadConfig(file, {})).rejects.toThrow(/is not valid YAML/);
  });
});
