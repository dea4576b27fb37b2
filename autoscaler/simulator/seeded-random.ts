/**
 * Seeded, splittable pseudo-random numbers for the simulator. Each consumer (a pool's price walk,
 * a pool's interruptions, a policy's victim choice) gets its own stream derived from the run's seed
 * and a label, so adding a policy or a pool never shifts the numbers another one sees: two runs with
 * the same seed are identical, and policies face the same market.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
  /** Poisson with the given mean (Knuth for small means, normal approximation above 30). */
  poisson(mean: number): number;
}

/** FNV-1a hash of a label, mixed with the seed: the stream's starting state. */
function hashSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= Math.imul(seed | 0, 0x9e3779b1) >>> 0;
  return h >>> 0;
}

/** A mulberry32 stream for (seed, label). */
export function createRandom(seed: number, label = ''): Random {
  let state = hashSeed(seed, label);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    normal,
    exponential: (mean) => -mean * Math.log(Math.max(1 - next(), 1e-12)),
    poisson: (mean) => {
      if (mean <= 0) return 0;
      if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
      const limit = Math.exp(-mean);
      let k = 0;
      let p = next();
      while (p > limit) {
        k++;
        p *= next();
      }
      return k;
    },
  };
}
