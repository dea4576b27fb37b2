/**
 * Tumbling windows in event time. A window [start, start + size) closes once the partition
 * watermark (the greatest event time seen in the partition) reaches end + allowedLateness;
 * a record whose window is already closed is late.
 */

/** Start of the window of `sizeMs` that contains `timeMs` (aligned to the epoch; works for negative times). */
export function windowStart(timeMs: number, sizeMs: number): number {
  return timeMs - (((timeMs % sizeMs) + sizeMs) % sizeMs);
}

/** True once the window starting at `startMs` must be emitted: watermark ≥ end + lateness. */
export function isClosed(
  startMs: number,
  sizeMs: number,
  watermarkMs: number,
  allowedLatenessMs: number,
): boolean {
  return watermarkMs >= startMs + sizeMs + allowedLatenessMs;
}

/**
 * True when a record at `timeMs` is late: its window of the smallest size has closed. A late
 * record is aggregated nowhere (not even into larger windows still open), so every larger window
 * equals the merge of the smaller windows inside it.
 */
export function isLate(
  timeMs: number,
  smallestSizeMs: number,
  watermarkMs: number,
  allowedLatenessMs: number,
): boolean {
  return isClosed(windowStart(timeMs, smallestSizeMs), smallestSizeMs, watermarkMs, allowedLatenessMs);
}
