import { describe, expect, it } from 'vitest';
import {
  defaultIndoorOptions,
  generateIndoorEvents,
  indoorPartition,
} from '../../../../examples/indoor-location/indoor-generator.js';

function share<T>(xs: readonly T[], pred: (x: T) => boolean): number {
  return xs.filter(pred).length / xs.length;
}

describe('indoor-location generator', () => {
  it('is deterministic by seed', () => {
    const a = generateIndoorEvents({ seed: 3, records: 2000 });
    expect(generateIndoorEvents({ seed: 3, records: 2000 })).toEqual(a);
    expect(generateIndoorEvents({ seed: 4, records: 2000 })).not.toEqual(a);
  });

  it('gives one org a large share of the load and one of its sites a hot share', () => {
    const events = generateIndoorEvents({ seed: 1, records: 40_000 });
    // Devices are equally active, so event shares follow device shares (600 devices: ±~5 %).
    expect(share(events, (e) => e.org === 'org-0')).toBeGreaterThan(defaultIndoorOptions.bigOrgShare - 0.07);
    expect(share(events, (e) => e.org === 'org-0')).toBeLessThan(defaultIndoorOptions.bigOrgShare + 0.07);
    expect(share(events, (e) => e.site === 'org-0-site-0')).toBeGreaterThan(
      defaultIndoorOptions.hotSiteShare - 0.07,
    );
    const otherSites = new Set(events.filter((e) => e.site !== 'org-0-site-0').map((e) => e.site));
    for (const site of otherSites) expect(share(events, (e) => e.site === site)).toBeLessThan(0.1);
  });

  it('keeps the hierarchy consistent, times in range and slightly out of order, rssi integer dBm', () => {
    const o = { seed: 2, records: 5000, startMs: Date.UTC(2026, 0, 1), durationMs: 600_000 };
    const events = generateIndoorEvents(o);
    let disordered = 0;
    const problems: string[] = [];
    events.forEach((e, i) => {
      if (
        !e.floor.startsWith(`${e.site}-`) ||
        !e.zone.startsWith(`${e.floor}-`) ||
        !e.site.startsWith(`${e.org}-`)
      )
        problems.push(`hierarchy ${e.org}/${e.site}/${e.floor}/${e.zone}`);
      if (e.timestamp < o.startMs || e.timestamp >= o.startMs + o.durationMs)
        problems.push(`time ${e.timestamp}`);
      if (!Number.isInteger(e.rssi) || e.rssi >= -40) problems.push(`rssi ${e.rssi}`);
      const prev = events[i - 1];
      if (prev && e.timestamp < prev.timestamp) disordered++;
      if (prev && prev.timestamp - e.timestamp >= defaultIndoorOptions.maxDisorderMs)
        problems.push(`disorder at ${i}`);
    });
    expect(problems).toEqual([]);
    expect(disordered).toBeGreaterThan(0);
    // A device keeps its floor.
    const floorOf = new Map<string, string>();
    const moved = events.filter((e) => {
      const before = floorOf.get(e.device);
      floorOf.set(e.device, e.floor);
      return before !== undefined && before !== e.floor;
    });
    expect(moved).toEqual([]);
  });

  it('spreads evenly over partitions keyed by device, unevenly keyed by site', () => {
    const events = generateIndoorEvents({ seed: 1, records: 40_000 });
    const spread = (by: 'device' | 'site') => {
      const counts = new Array<number>(4).fill(0);
      for (const e of events) counts[indoorPartition(e, by, 4)]! += 1;
      return Math.max(...counts) / (events.length / 4);
    };
    expect(spread('device')).toBeLessThan(1.15);
    expect(spread('site')).toBeGreaterThan(1.5);
  });
});
