import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ResultRowEncoder } from '../../../../infra/cassandra/row-encoder.js';

// The driver's own generic encoder (exported as `Encoder`, not typed in its .d.ts): the reference.
const require = createRequire(import.meta.url);
const { Encoder } = require('cassandra-driver') as {
  Encoder: new (protocolVersion: number, options: object) => { encode(value: unknown, type: string): Buffer };
};

const TYPES = ['text', 'text', 'bigint', 'timestamp', 'frozen<map<text, text>>', 'frozen<map<text, double>>'];

function driverBytes(params: unknown[]): string[] {
  const enc = new Encoder(4, {});
  return params.map((p, i) => enc.encode(p, TYPES[i]!.replace(/^frozen<(.*)>$/, '$1')).toString('hex'));
}

describe('ResultRowEncoder', () => {
  const cases: [string, string, number, number, Record<string, string>, Record<string, number>][] = [
    [
      'bench',
      'dev-000042',
      60_000,
      Date.UTC(2026, 10, 26, 0, 1),
      { device: 'dev-000042' },
      {
        'temp.count': 12,
        'temp.sum': 301.25,
        'temp.min': -4.5,
        'temp.max': 35,
        'temp.mean': 25.104166666666668,
      },
    ],
    [
      'ünïcode-pipeline',
      'a|b\\|c',
      3_600_000,
      -86_400_000,
      { org: 'a', site: 'b|c', fläche: '€' },
      {
        'x.p99.9': 1e-300,
        'x.distinct': 0,
        'x.last': -0,
      },
    ],
    ['p', '', 1, 0, {}, {}],
    ['p', 'k', 2 ** 53 - 1, -8.64e15, { k: '' }, { 'v.sum': Number.MAX_VALUE }],
  ];

  it('writes exactly the bytes the driver would (text, bigint, timestamp, frozen maps)', () => {
    const enc = new ResultRowEncoder();
    for (let round = 0; round < 2; round++) {
      for (const [p, s, size, start, kv, m] of cases) {
        const ours = enc.encode(p, s, size, start, kv, m).map((b) => b.toString('hex'));
        expect(ours).toEqual(driverBytes([p, s, size, new Date(start), kv, m]));
      }
    }
  });

  it('refuses a window size or start that is not a safe integer, naming it', () => {
    const enc = new ResultRowEncoder();
    expect(() => enc.encode('p', 'k', 1.5, 0, {}, {})).toThrow(/1\.5 is not a safe integer/);
    expect(() => enc.encode('p', 'k', 1, 2 ** 60, {}, {})).toThrow(/not a safe integer/);
  });
});
