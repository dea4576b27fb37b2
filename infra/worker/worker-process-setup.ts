import { loadKeyLookupKernel } from '../../aggregator/store/key-lookup-kernel.js';
import { applyWorkerRuntimeFlags } from './worker-node-options.js';

/** What {@link setUpWorkerProcess} did, for the worker's start-up log. */
export interface WorkerProcessSetup {
  /** V8 flags set on this process (WORKER_RUNTIME_V8_FLAGS its command line did not choose). */
  v8Flags: string[];
  /** Time to compile the WebAssembly series-key lookup (~0.2 s, once per process). */
  keyLookupCompileMs: number;
}

/**
 * What every process that runs worker code does first: `liveagg worker`, and `liveagg bench` for a
 * benchmark of worker code, so that it measures the code as a worker runs it. Sets the V8 flags a
 * worker sets on itself, then compiles the WebAssembly key lookup its series dictionaries use.
 */
export async function setUpWorkerProcess(): Promise<WorkerProcessSetup> {
  const v8Flags = applyWorkerRuntimeFlags();
  const start = performance.now();
  await loadKeyLookupKernel();
  return { v8Flags, keyLookupCompileMs: Math.round(performance.now() - start) };
}
