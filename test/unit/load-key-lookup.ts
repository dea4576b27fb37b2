// Unit tests run the engine as a worker does: series dictionaries look keys up in WebAssembly.
import { loadKeyLookupKernel } from '../../aggregator/store/key-lookup-kernel.js';

await loadKeyLookupKernel();
