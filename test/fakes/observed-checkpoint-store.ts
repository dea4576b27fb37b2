import type { CheckpointStore } from '../../aggregator/checkpoint/checkpoint-store.js';

/**
 * A real checkpoint store whose writes a test watches: `beforeWrite` may hold a write back (a slow
 * store), `afterWrite` sees each durable write's arguments (to log the order of events).
 */
export function observedCheckpointStore(
  inner: CheckpointStore,
  hooks: {
    beforeWrite?: () => Promise<void>;
    afterWrite: (...args: Parameters<CheckpointStore['write']>) => void;
  },
): CheckpointStore {
  return {
    location: inner.location,
    write: async (...a) => {
      await hooks.beforeWrite?.();
      const m = await inner.write(...a);
      hooks.afterWrite(...a);
      return m;
    },
    latestValid: (r) => inner.latestValid(r),
    list: (r) => inner.list(r),
    load: (r, id) => inner.load(r, id),
    applyRetention: (r) => inner.applyRetention(r),
  };
}
