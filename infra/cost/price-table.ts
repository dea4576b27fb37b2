import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues } from '../config/config-error.js';
import shipped from './on-demand-prices.json' with { type: 'json' };

export const priceTableSchema = z
  .object({
    /** Day the prices were read (YYYY-MM-DD). */
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'is not a YYYY-MM-DD date'),
    region: z.string().min(1),
    currency: z.string().min(1).default('USD'),
    source: z.string().min(1),
    prices: z.record(
      z.string().min(1),
      z
        .object({
          onDemandPerHour: z.number().nonnegative(),
          vcpu: z.number().positive(),
          memoryGiB: z.number().positive().optional(),
        })
        .strict(),
    ),
  })
  .strict();

export type PriceTable = z.infer<typeof priceTableSchema>;

/** A price table that cannot be used, naming the file and the field. */
export class PriceTableError extends Error {
  readonly code = 'PRICE_TABLE';
  readonly retryable = false;
}

/** The table shipped with liveagg (dated; see its `source`). */
export function shippedPriceTable(): PriceTable {
  return priceTableSchema.parse(shipped);
}

/** The shipped table with a user's file laid over it (their types replace or add to ours; their date and source win). */
export async function loadPriceTable(overrideFile?: string): Promise<PriceTable> {
  const base = shippedPriceTable();
  if (!overrideFile) return base;
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(overrideFile, 'utf8'));
  } catch (err) {
    throw new PriceTableError(`${overrideFile}: cannot read a JSON price table: ${(err as Error).message}`);
  }
  const parsed = priceTableSchema.safeParse(doc, { reportInput: true });
  if (!parsed.success) {
    throw new PriceTableError(`${overrideFile}: ${describeIssues(parsed.error.issues).join('; ')}`);
  }
  return { ...parsed.data, prices: { ...base.prices, ...parsed.data.prices } };
}
