import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isOurProcess,
  isPortFree,
  lastLines,
  parsePid,
  parseVmRss,
  recordedPid,
  rssBytes,
  waitFor,
} from '../../../../infra/local/process-runner.js';

describe('parsePid', () => {
  it('accepts a positive integer with surrounding whitespace', () => {
    expect(parsePid(' 1234\n')).toBe(1234);
  });
  it.each(['', 'abc', '-5', '0', '12 34', '1.5'])('rejects %j', (text) => {
    expect(parsePid(text)).toBeUndefined();
  });
});

describe('parseVmRss', () => {
  it('reads VmRSS in bytes', () => {
    expect(parseVmRss('Name:\tjava\nVmPeak:\t 900 kB\nVmRSS:\t  351232 kB\nThreads: 40\n')).toBe(
      351232 * 1024,
    );
  });
  it('is undefined without a VmRSS line (kernel threads, zombies)', () => {
    expect(parseVmRss('Name:\tkthreadd\nState:\tS\n')).toBeUndefined();
  });
  it('reads this process from /proc', () => {
    expect(rssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});

describe('recorded pids', () => {
  it('does not take a live process without our marker for ours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'la-pid-'));
    const pidFile = join(dir, 'x.pid');
    writeFileSync(pidFile, `${process.pid}\n`);
    expect(isOurProcess(process.pid, 'liveagg-kafka@/nowhere/at/all')).toBe(false);
    expect(recordedPid(pidFile, 'liveagg-kafka@/nowhere/at/all')).toBeUndefined();
  });
  it('is undefined for a missing pid file or a dead pid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'la-pid-'));
    expect(recordedPid(join(dir, 'missing.pid'), 'm')).toBeUndefined();
    writeFileSync(join(dir, 'dead.pid'), '4194304\n');
    expect(recordedPid(join(dir, 'dead.pid'), 'm')).toBeUndefined();
  });
});

describe('isPortFree', () => {
  it('is false while something listens on the port and true after it closes', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const address = srv.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    expect(await isPortFree(port)).toBe(false);
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await isPortFree(port)).toBe(true);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    expect(await waitFor(async () => (++n >= 3 ? n : undefined), 5000, 'three', { intervalMs: 1 })).toBe(3);
  });
  it('names what it waited for and the last error on timeout', async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error('connection refused');
        },
        20,
        'the broker',
        { intervalMs: 5 },
      ),
    ).rejects.toThrow(/waiting for the broker: connection refused/);
  });
  it('stops early when abort throws', async () => {
    await expect(
      waitFor(async () => false, 60_000, 'x', {
        abort: () => {
          throw new Error('process exited');
        },
      }),
    ).rejects.toThrow('process exited');
  });
});

describe('lastLines', () => {
  it('keeps the last non-empty lines', () => {
    expect(lastLines('a\n\nb\nc\n\n', 2)).toBe('b\nc');
  });
});
