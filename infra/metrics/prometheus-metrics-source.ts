import type { Clock } from '../../autoscaler/ports/clock.js';
import { ThrottledError } from '../../autoscaler/ports/errors.js';
import type { MetricsSnapshot, MetricsSource } from '../../autoscaler/ports/metrics-source.js';
import { parsePromText } from './prom-text-parser.js';
import { buildSnapshot, COUNTER_METRICS, GAUGE_METRICS, type WindowSample } from './window-samples.js';

/** A worker to scrape. */
export interface ScrapeTarget {
  instanceId: string;
  instanceType: string;
  /** Its `/metrics` URL, e.g. `http://10.0.1.7:9464/metrics`. */
  url: string;
}

/** One scrape of one worker: counter values and gauge values by series key. */
interface Scrape {
  atMs: number;
  counters: Map<string, { metric: string; labels: Record<string, string>; value: number }>;
  gauges: Map<string, { metric: string; labels: Record<string, string>; value: number }>;
}

export interface PrometheusMetricsSourceOptions {
  /** The workers to scrape now (e.g. the fleet's running instances). */
  targets: () => Promise<readonly ScrapeTarget[]>;
  clock: Clock;
  /** Per-scrape HTTP timeout. */
  timeoutMs?: number;
  /** When a worker has no earlier scrape, wait this long and scrape again so its counters have a rate. */
  bootstrapMs?: number;
  fetch?: typeof fetch;
  onScrapeError?: (target: ScrapeTarget, error: unknown) => void;
}

const COUNTERS = new Set(COUNTER_METRICS);
const GAUGES = new Set(GAUGE_METRICS);

/**
 * MetricsSource that scrapes the workers' `/metrics` (Prometheus text) directly. Counters become rates from two
 * scrapes: the increase since the newest earlier scrape at least `windowMs` old (or the oldest one kept), scaled to the
 * window, with counter resets (a restarted worker) counted from zero as Prometheus' `increase()` does. Gauges are the
 * latest scrape. A worker that does not answer is left out of the snapshot (and reported through `onScrapeError`).
 */
export class PrometheusMetricsSource implements MetricsSource {
  private readonly history = new Map<string, Scrape[]>();
  private readonly fetchFn: typeof fetch;
  constructor(private readonly options: PrometheusMetricsSourceOptions) {
    this.fetchFn = options.fetch ?? fetch;
  }

  async observe(windowMs: number): Promise<MetricsSnapshot | undefined> {
    const targets = await this.options.targets();
    let scraped = await this.scrapeAll(targets);
    const needsBaseline = scraped.some(
      ({ target }) => (this.history.get(target.instanceId)?.length ?? 0) < 2,
    );
    if (needsBaseline && (this.options.bootstrapMs ?? 5_000) > 0) {
      await this.options.clock.sleep(this.options.bootstrapMs ?? 5_000);
      scraped = await this.scrapeAll(targets);
    }
    const nowMs = this.options.clock.now();
    const samples: WindowSample[] = [];
    const live = new Set<string>();
    for (const { target } of scraped) {
      live.add(target.instanceId);
      const history = this.history.get(target.instanceId) ?? [];
      const latest = history[history.length - 1];
      if (!latest) continue;
      const base = baselineOf(history, latest.atMs - windowMs);
      const base0 = base !== latest ? base : undefined;
      for (const g of latest.gauges.values())
        samples.push({ ...identity(target), metric: g.metric, labels: g.labels, value: g.value });
      if (!base0) continue;
      // Scale the increase over the scraped span to the requested window: the rate is what is measured.
      const scale = windowMs / (latest.atMs - base0.atMs);
      for (const [key, c] of latest.counters) {
        const before = base0.counters.get(key)?.value ?? 0;
        const increase = c.value >= before ? c.value - before : c.value;
        samples.push({ ...identity(target), metric: c.metric, labels: c.labels, value: increase * scale });
      }
    }
    for (const id of [...this.history.keys()])
      if (!live.has(id) && !targets.some((t) => t.instanceId === id)) this.history.delete(id);
    return buildSnapshot(samples, { observedAtMs: nowMs, windowMs });
  }

  private async scrapeAll(targets: readonly ScrapeTarget[]): Promise<{ target: ScrapeTarget }[]> {
    const results = await Promise.all(
      targets.map(async (target) => {
        try {
          const scrape = await this.scrape(target);
          const history = this.history.get(target.instanceId) ?? [];
          history.push(scrape);
          // Keep a bounded history: enough for any window the loop asks for.
          if (history.length > 64) history.shift();
          this.history.set(target.instanceId, history);
          return { target };
        } catch (error) {
          this.options.onScrapeError?.(target, error);
          return undefined;
        }
      }),
    );
    return results.filter((r): r is { target: ScrapeTarget } => r !== undefined);
  }

  private async scrape(target: ScrapeTarget): Promise<Scrape> {
    const response = await this.fetchFn(target.url, {
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      headers: { accept: 'text/plain; version=0.0.4' },
    });
    if (response.status === 429) throw new ThrottledError(`GET ${target.url}`);
    if (!response.ok)
      throw new Error(`GET ${target.url} answered HTTP ${response.status}; is the worker's admin server up?`);
    const { samples } = parsePromText(await response.text());
    const scrape: Scrape = { atMs: this.options.clock.now(), counters: new Map(), gauges: new Map() };
    for (const s of samples) {
      const into = COUNTERS.has(s.name) ? scrape.counters : GAUGES.has(s.name) ? scrape.gauges : undefined;
      if (!into) continue;
      into.set(`${s.name}${JSON.stringify(s.labels)}`, { metric: s.name, labels: s.labels, value: s.value });
    }
    return scrape;
  }
}

function identity(target: ScrapeTarget): { instanceId: string; instanceType: string } {
  return { instanceId: target.instanceId, instanceType: target.instanceType };
}

/** The newest scrape at or before `atMs`, else the oldest kept. */
function baselineOf(history: readonly Scrape[], atMs: number): Scrape {
  let base = history[0] as Scrape;
  for (const s of history) if (s.atMs <= atMs) base = s;
  return base;
}
