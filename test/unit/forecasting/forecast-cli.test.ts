import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerForecastCommand } from '../../../infra/cli/commands/forecast-command.js';

const dir = mkdtempSync(path.join(tmpdir(), 'liveagg-forecast-'));
function csv(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `timestamp,value\n${lines.join('\n')}\n`);
  return file;
}
// Ten days of hourly data with a daily cycle.
const hourly = csv(
  'hourly.csv',
  Array.from({ length: 240 }, (_, t) => {
    const ts = new Date(Date.UTC(2024, 0, 1) + t * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    return `${ts},${100 + 50 * Math.sin((2 * Math.PI * (t % 24)) / 24)}`;
  }),
);

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  process.exitCode = undefined;
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function run(...args: string[]): Promise<void> {
  const program = new Command('liveagg').exitOverride().showHelpAfterError();
  program.configureOutput({
    writeOut: (s) => process.stdout.write(s),
    writeErr: (s) => process.stderr.write(s),
  });
  registerForecastCommand(program);
  await program.parseAsync(['node', 'liveagg', ...args]);
}

describe('liveagg forecast', () => {
  it('--json prints only the contract document for the horizon after the last point', async () => {
    await run('forecast', '--input', hourly, '--horizon', '6h', '--json');
    const doc = JSON.parse(out) as { interval: string; model: string; points: Record<string, unknown>[] };
    expect(Object.keys(doc)).toEqual(['interval', 'model', 'points']);
    expect(doc.interval).toBe('1h');
    expect(doc.points).toHaveLength(6);
    expect(doc.points[0]).toEqual({
      timestamp: '2024-01-11T00:00:00.000Z',
      value: expect.any(Number),
      lower: expect.any(Number),
      upper: expect.any(Number),
    });
    expect(err).toContain('forecast:');
  });

  it('--csv prints a header and one row per step', async () => {
    await run('forecast', '--input', hourly, '--horizon', '3h', '--interval', '1h', '--csv');
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,lower,upper');
    expect(lines).toHaveLength(4);
  });

  it('backtest --json reports every model, the chosen one and the baseline', async () => {
    await run('forecast', 'backtest', '--input', hourly, '--horizon', '24h', '--json');
    const doc = JSON.parse(out) as {
      chosen: string;
      baseline: unknown;
      models: { model: string; available: boolean }[];
    };
    expect(doc.models.map((m) => m.model)).toContain('seasonal-naive-weekly');
    expect(doc.models.find((m) => m.model === 'decomposition')?.available).toBe(true);
    expect(typeof doc.chosen).toBe('string');
    expect(doc).toHaveProperty('baseline');
  });

  it('bad input: names line and value, exit code 2, nothing on stdout', async () => {
    const bad = csv('bad.csv', ['2024-01-01 00:00:00,1', '2024-01-01 01:00:00,oops']);
    await run('forecast', '--input', bad, '--horizon', '1h', '--json');
    expect(out).toBe('');
    expect(err).toMatch(/line 3: value "oops"/);
    expect(process.exitCode).toBe(2);
  });

  it('a bad duration is a usage error', async () => {
    await expect(run('forecast', '--input', hourly, '--horizon', 'soon')).rejects.toThrow(/duration "soon"/);
    expect(err).toMatch(/--help/);
  });
});
