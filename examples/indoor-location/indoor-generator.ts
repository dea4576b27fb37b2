/**
 * Indoor location events with the skew real deployments have: one organisation holds a large
 * share of the devices, and one of its sites (a stadium, a flagship store) is hot. Deterministic
 * by seed, so tests can recompute exactly what was sent.
 */

/** One position report of one device (BLE / Wi-Fi), as written to the input topic. */
export interface IndoorEvent {
  org: string;
  site: string;
  floor: string;
  zone: string;
  device: string;
  /** Event time, epoch ms. */
  timestamp: number;
  /** Position on the floor plan, metres. */
  x: number;
  y: number;
  /** Received signal strength, integer dBm (integers keep sums exact in any order). */
  rssi: number;
}

export interface IndoorGeneratorOptions {
  seed: number;
  records: number;
  /** Event time of the first record, epoch ms. */
  startMs: number;
  /** Event-time span the records cover, ms. */
  durationMs: number;
  orgs: number;
  sitesPerOrg: number;
  floorsPerSite: number;
  zonesPerFloor: number;
  devices: number;
  /** Share of devices in org 0 (the big customer). */
  bigOrgShare: number;
  /** Share of all devices at org 0's site 0 (the hot site); part of `bigOrgShare`. */
  hotSiteShare: number;
  /** Records are shuffled by up to this much event time (out of order, within allowed lateness). */
  maxDisorderMs: number;
}

export const defaultIndoorOptions: IndoorGeneratorOptions = {
  seed: 1,
  records: 10_000,
  startMs: Date.UTC(2026, 10, 26, 9, 0, 0),
  durationMs: 90 * 60_000,
  orgs: 6,
  sitesPerOrg: 4,
  floorsPerSite: 3,
  zonesPerFloor: 5,
  devices: 600,
  bigOrgShare: 0.6,
  hotSiteShare: 0.4,
  maxDisorderMs: 5_000,
};

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DeviceHome {
  device: string;
  org: number;
  site: number;
  floor: number;
  zone: number;
}

function placeDevices(o: IndoorGeneratorOptions, rand: () => number): DeviceHome[] {
  const homes: DeviceHome[] = [];
  for (let d = 0; d < o.devices; d++) {
    const u = rand();
    let org: number;
    let site: number;
    if (u < o.hotSiteShare) {
      org = 0;
      site = 0;
    } else if (u < o.bigOrgShare || o.orgs === 1) {
      org = 0;
      site = o.sitesPerOrg === 1 ? 0 : 1 + Math.floor(rand() * (o.sitesPerOrg - 1));
    } else {
      org = 1 + Math.floor(rand() * (o.orgs - 1));
      site = Math.floor(rand() * o.sitesPerOrg);
    }
    homes.push({
      device: `dev-${d.toString(36).padStart(4, '0')}`,
      org,
      site,
      floor: Math.floor(rand() * o.floorsPerSite),
      zone: Math.floor(rand() * o.zonesPerFloor),
    });
  }
  return homes;
}

/**
 * `records` events over `durationMs`, roughly one device report per slot, devices equally
 * active (so load follows where the devices are: the big org, the hot site). A device stays on
 * its floor and mostly in its home zone (1 in 5 reports from a neighbouring zone).
 */
export function generateIndoorEvents(options: Partial<IndoorGeneratorOptions> = {}): IndoorEvent[] {
  const o = { ...defaultIndoorOptions, ...options };
  const rand = mulberry32(o.seed);
  const homes = placeDevices(o, rand);
  const out: IndoorEvent[] = [];
  for (let i = 0; i < o.records; i++) {
    const h = homes[Math.floor(rand() * homes.length)]!;
    const zone = rand() < 0.2 ? (h.zone + 1) % o.zonesPerFloor : h.zone;
    const base = o.startMs + Math.floor((i * o.durationMs) / o.records);
    const disorder = Math.floor(rand() * o.maxDisorderMs);
    const timestamp = Math.min(o.startMs + o.durationMs - 1, base + disorder);
    const cx = zone * 20 + 10;
    const x = Math.round((cx + (rand() - 0.5) * 18) * 10) / 10;
    const y = Math.round((10 + (rand() - 0.5) * 18) * 10) / 10;
    const distance = Math.hypot(x - cx, y - 10);
    const rssi = Math.round(-45 - 1.8 * distance - rand() * 20);
    const org = `org-${h.org}`;
    const site = `${org}-site-${h.site}`;
    out.push({
      org,
      site,
      floor: `${site}-f${h.floor}`,
      zone: `${site}-f${h.floor}-z${zone}`,
      device: h.device,
      timestamp,
      x,
      y,
      rssi,
    });
  }
  return out;
}

/** FNV-1a 32-bit: a stable hash for choosing partitions (the same in every process). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** How the input topic is keyed: by `device` (spreads evenly) or by `site` (a hot site makes a hot partition). */
export type IndoorPartitionKey = 'device' | 'site';

/** The partition of an event when the input topic is keyed by `by`. */
export function indoorPartition(e: IndoorEvent, by: IndoorPartitionKey, partitions: number): number {
  return fnv1a(by === 'device' ? e.device : e.site) % partitions;
}
