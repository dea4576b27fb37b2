/** Timestamps and values as read, in input order after sorting (duplicates kept). */
export interface RawSeries {
  timestampsMs: number[];
  values: number[];
  /** How many rows arrived out of order and were sorted (set by the CSV parser). */
  outOfOrder?: number;
}

/** What resampling did to the input, so callers can report it. */
export interface ResampleReport {
  inputPoints: number;
  /** Buckets that had no input point and were filled (interpolated or copied from a season earlier). */
  gapsFilled: number;
  /** Input rows whose timestamp repeated an earlier row's; merged per `agg`. */
  duplicates: number;
  outliersClipped?: number;
  /** Rows that arrived out of order and were sorted before resampling. */
  outOfOrder: number;
  /** True when the interval was inferred as the median spacing of the input. */
  intervalInferred: boolean;
  /** The longest run of filled buckets. */
  longestGapSteps: number;
  /** The first gaps (up to 20): where each starts and how many buckets it spans. */
  gaps: { startMs: number; steps: number }[];
}

/** A series on a regular grid: value i belongs to the bucket starting at `startMs + i * intervalMs`. */
export interface RegularSeries {
  startMs: number;
  intervalMs: number;
  values: number[];
  report: ResampleReport;
}

export type SeriesErrorCode =
  | 'BAD_HEADER'
  | 'BAD_TIMESTAMP'
  | 'BAD_VALUE'
  | 'EMPTY_SERIES'
  | 'BAD_INTERVAL'
  | 'BAD_DURATION'
  | 'TOO_LITTLE_HISTORY'
  | 'UNKNOWN_MODEL'
  | 'BAD_OPTION';

/** Bad time-series input. Never retryable: the input or the options must change. */
export class SeriesError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: SeriesErrorCode,
    message: string,
    /** 1-based line of the input file, when the error is tied to one. */
    readonly line?: number,
    /** The offending value as it appeared. */
    readonly value?: string,
  ) {
    super(message);
    this.name = 'SeriesError';
  }
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
