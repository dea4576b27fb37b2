import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../../autoscaler/ports/clock.js';
import { PromWorkerMetrics } from '../../../../infra/metrics/prom-worker-metrics.js';
import {
  PrometheusMetricsSource,
  type ScrapeTarget,
} from '../../../../infra/metrics/prometheus-metrics-source.js';

class FakeClock implements Clock {
  nowMs = 1_000_000;
  now(): number {
    return this.nowMs;
  }
  async sleep(ms: number): Promise<void> {
    this.nowMs += ms;
  }
}

/** Serves each worker's registry as its /metrics; a URL with no worker fails like a dead host. */
function fakeFetch(workers: Map<string, PromWorkerMetrics>): typeof fetch {
  return (async (url: string | URL | Request) => {
    const worker = workers.get(String(url));
    if (!worker) throw new TypeError('fetch failed: ECONNREFUSED');
    return new Response(await worker.text(), { status: 200 });
  }) as typeof fetch;
}

describe('PrometheusMetricsSource', () => {
  it('turns two scrapes into rates over the window, gauges from the latest, and skips dead workers', async () => {
    const clock = new FakeClock();
    const a = new PromWorkerMetrics(false);
    const workers = new Map([['http://a/metrics', a]]);
    const targets: ScrapeTarget[] = [
      { instanceId: 'i-a', instanceType: 'm6i.xlarge', url: 'http://a/metrics' },
      { instanceId: 'i-dead', instanceType: 'm6i.xlarge', url: 'http://dead/metrics' },
    ];
    const errors: string[] = [];
    const source = new PrometheusMetricsSource({
      targets: async () => targets,
      clock,
      bootstrapMs: 0,
      fetch: fakeFetch(workers),
      onScrapeError: (t) => errors.push(t.instanceId),
    });
    a.consumed('events', 0, 1000, 0);
    a.busy('consumer', 10);
    // First observation: no earlier scrape, so no counter rates yet (gauges only).
    const first = await source.observe(60_000);
    expect(first?.streams.every((s) => s.recordsPerSecond === 0)).toBe(true);

    clock.nowMs += 30_000;
    a.consumed('events', 0, 600, 0); // 600 records in 30 s = 20/s
    a.busy('consumer', 3);
    a.busy('aggregator', 1.5);
    a.lag('events', 0, 250);
    a.memory(4096, 8192, 11, {});
    const snapshot = await source.observe(60_000);
    expect(snapshot?.streams).toEqual([
      { stream: 'events', recordsPerSecond: 20, lagByPartition: { '0': 250 }, partitions: 1 },
    ]);
    // Increases over 30 s scaled to the 60 s window.
    expect(snapshot?.workers).toEqual([
      {
        instanceId: 'i-a',
        instanceType: 'm6i.xlarge',
        streams: [{ stream: 'events', records: 1200, busyCpuSeconds: 9 }],
        busyCpuSeconds: 9,
        stateBytes: 4096,
        liveSeries: 11,
      },
    ]);
    expect(errors).toContain('i-dead');
  });

  it('counts a counter reset (restarted worker) from zero', async () => {
    const clock = new FakeClock();
    let worker = new PromWorkerMetrics(false);
    const fetchFn = (async () => new Response(await worker.text())) as typeof fetch;
    const source = new PrometheusMetricsSource({
      targets: async () => [{ instanceId: 'i-r', instanceType: 'c6i.xlarge', url: 'http://r/metrics' }],
      clock,
      bootstrapMs: 0,
      fetch: fetchFn,
    });
    worker.consumed('events', 1, 5000, 0);
    await source.observe(10_000);
    clock.nowMs += 10_000;
    worker = new PromWorkerMetrics(false);
    worker.consumed('events', 1, 70, 0);
    const snapshot = await source.observe(10_000);
    expect(snapshot?.workers[0]?.streams).toEqual([{ stream: 'events', records: 70, busyCpuSeconds: 0 }]);
  });

  it('bootstraps a rate with a second scrape after bootstrapMs on the injected clock', async () => {
    const clock = new FakeClock();
    const worker = new PromWorkerMetrics(false);
    let scrapes = 0;
    const fetchFn = (async () => {
      scrapes++;
      if (scrapes === 2) worker.consumed('events', 0, 50, 0);
      return new Response(await worker.text());
    }) as typeof fetch;
    const source = new PrometheusMetricsSource({
      targets: async () => [{ instanceId: 'i-b', instanceType: 'c6i.xlarge', url: 'http://b/metrics' }],
      clock,
      bootstrapMs: 5_000,
      fetch: fetchFn,
    });
    worker.consumed('events', 0, 1, 0);
    const snapshot = await source.observe(10_000);
    expect(scrapes).toBe(2);
    // 50 records in 5 s = 10/s.
    expect(snapshot?.streams[0]?.recordsPerSecond).toBe(10);
  });

  it('returns undefined when no worker answers', async () => {
    const source = new PrometheusMetricsSource({
      targets: async () => [{ instanceId: 'i-x', instanceType: 'c6i.xlarge', url: 'http://x/metrics' }],
      clock: new FakeClock(),
      bootstrapMs: 0,
      fetch: fakeFetch(new Map()),
    });
    expect(await source.observe(60_000)).toBeUndefined();
  });
});
