import { parseTimeSeriesCsv } from '../../forecasting/series/parse-csv.js';
import { resample } from '../../forecasting/series/resample.js';
import type { RegularSeries } from '../../forecasting/series/series-types.js';

/**
 * A load trace from CSV text (`timestamp,value`): parsed and put on its regular grid by
 * forecasting's series code (gaps filled and counted in `report`). The caller reads the file.
 */
export function traceFromCsv(text: string): RegularSeries {
  return resample(parseTimeSeriesCsv(text), { agg: 'mean' });
}
