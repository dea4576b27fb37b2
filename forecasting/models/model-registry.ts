import { SeriesError } from '../series/series-types.js';
import { decomposition } from './decomposition.js';
import { ensemble } from './ensemble.js';
import { holtWintersDouble, holtWintersWeekly } from './holt-winters.js';
import type { ForecastModel } from './model-types.js';
import {
  seasonalNaiveBlend,
  seasonalNaiveBlendRatio,
  seasonalNaiveDaily,
  seasonalNaiveWeekly,
} from './seasonal-naive.js';

/** Every model, baselines first. */
export const MODELS: readonly ForecastModel[] = [
  seasonalNaiveWeekly,
  seasonalNaiveDaily,
  seasonalNaiveBlend,
  seasonalNaiveBlendRatio,
  holtWintersWeekly,
  holtWintersDouble,
  decomposition,
  ensemble,
];

/** The baseline every chosen model is compared with. */
export const BASELINE_MODEL = seasonalNaiveWeekly.name;

/** Looks a model up by name; throws `SeriesError` UNKNOWN_MODEL listing the valid names. */
export function modelByName(name: string): ForecastModel {
  const m = MODELS.find((x) => x.name === name);
  if (!m)
    throw new SeriesError(
      'UNKNOWN_MODEL',
      `model "${name}" is not known: use auto or one of ${MODELS.map((x) => x.name).join(', ')}`,
      undefined,
      name,
    );
  return m;
}
