/**
 * WebAssembly modules assembled from their text at run time (by `wabt`, from npm) and instances of
 * them over a fresh memory each: what the store's kernels (the key lookup, the row updates) are
 * built with. {@link loadAssembler} must have resolved before {@link compileWat} can assemble.
 */
import wabt from 'wabt';

/** The runtime's WebAssembly API as far as the kernels use it (the project's TypeScript libs do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  /** Adds `pages` zeroed pages at the end (in place: `buffer` is then a new, longer view); RangeError when it cannot. */
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Bytes per WebAssembly page. */
export const WASM_PAGE = 65_536;

/** `n` rounded up to a multiple of 8 (doubles' alignment). */
export const align8 = (n: number): number => (n + 7) & ~7;
/** `n` rounded up to a multiple of 64, a cache line: what starts there spans as few lines as its size allows. */
export const alignLine = (n: number): number => (n + 63) & ~63;

let assembler: Awaited<ReturnType<typeof wabt>> | null = null;
let loading: Promise<void> | null = null;

/** Loads the assembler (once per process; later calls return the same promise). */
export function loadAssembler(): Promise<void> {
  loading ??= (async () => {
    assembler = await wabt();
  })();
  return loading;
}

/** A module compiled from WebAssembly text, or null while the assembler is not loaded. */
export function compileWat(name: string, text: string): object | null {
  if (assembler === null) return null;
  const parsed = assembler.parseWat(name, text, {});
  try {
    return new webAssembly.Module(parsed.toBinary({}).buffer);
  } finally {
    parsed.destroy();
  }
}

/**
 * A fresh zeroed memory of at least `bytes` bytes with an instance of `module` over it (imported
 * as `env.memory`). Throws RangeError when no memory can be had.
 */
export function instantiateWithMemory(
  module: object,
  bytes: number,
): { memory: WasmMemory; exports: unknown } {
  const memory = new webAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / WASM_PAGE)) });
  const { exports } = new webAssembly.Instance(module, { env: { memory } });
  return { memory, exports };
}
