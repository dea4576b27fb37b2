import { Client } from 'cassandra-driver';
import { expect } from 'vitest';
import type { Scenario, TempEvent } from './aggregation-scenario.js';
import { cassandraContactPoint } from './stack-endpoints.js';

export { presenceMachine } from '../../unit/aggregator/engine/engine-fixtures.js';

/**
 * The transitions, computed straight from each device's reports, as `device|at|from|to|cause`:
 * offline → online on a report while offline; online → offline at the last report + `silenceMs`
 * when the next report comes later than that, or when nothing follows (event time moves past
 * every device's silence at the end: an end marker, or the partition's idle advance).
 */
export function referenceTransitions(events: TempEvent[][], silenceMs: number): Set<string> {
  const byDevice = new Map<string, number[]>();
  for (const e of events.flat()) byDevice.set(e.device, [...(byDevice.get(e.device) ?? []), e.ts]);
  const out = new Set<string>();
  for (const [device, times] of byDevice) {
    times.sort((a, b) => a - b);
    let online = false;
    let last = 0;
    for (const t of times) {
      if (online && t >= last + silenceMs) {
        out.add(`${device}|${last + silenceMs}|online|offline|timeout`);
        online = false;
      }
      if (!online) {
        out.add(`${device}|${t}|offline|online|record`);
        online = true;
      }
      last = t;
    }
    out.add(`${device}|${last + silenceMs}|online|offline|timeout`);
  }
  return out;
}

/** The transitions table's rows (end markers' series left out), as `device|at|from|to|cause`. */
export async function readTransitions(s: Scenario): Promise<string[]> {
  const client = new Client({ contactPoints: [cassandraContactPoint], localDataCenter: 'datacenter1' });
  try {
    const rs = await client.execute(
      `SELECT machine, series_key, at, from_state, to_state, cause FROM ${s.keyspace}.results_transitions`,
      [],
      { fetchSize: 100_000 },
    );
    return rs.rows
      .filter((r) => !(r['series_key'] as string).startsWith('__end-'))
      .map((r) => {
        expect(r['machine']).toBe('presence');
        return `${r['series_key']}|${(r['at'] as Date).getTime()}|${r['from_state']}|${r['to_state']}|${r['cause']}`;
      });
  } finally {
    await client.shutdown();
  }
}
