import { describe, expect, it } from 'vitest';
import { measureFloor } from '../../bench/core-wasm-floor.js';

describe('core floor fed key bytes (JavaScript and WebAssembly)', () => {
  it('counts every record once, and both see the same distinct keys', async () => {
    const sizes = { keys: 4_000, records: 40_000 };
    const js = await measureFloor('js-bytes', sizes);
    const wasm = await measureFloor('wasm', sizes);
    expect(js.everyRecordCountedOnce).toBe(true);
    expect(wasm.everyRecordCountedOnce).toBe(true);
    // 52,000 draws over 4,000 keys: all of them, nearly surely; the same in both.
    expect(js.keys).toBe(wasm.keys);
    expect(js.keys).toBeGreaterThan(3_990);
    expect(js.keys).toBeLessThanOrEqual(4_000);
  });
});
