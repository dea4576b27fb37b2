import { GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, describe, expect, it } from 'vitest';
import { createCloudWatchClient } from '../../../infra/aws/aws-clients.js';
import { awsConnection, uniqueName } from '../helpers/stack-endpoints.js';

const cw = createCloudWatchClient(awsConnection);
afterAll(() => cw.destroy());

describe('CloudWatch on moto (AWS SDK v3)', () => {
  it('returns the sum of data points put with PutMetricData from GetMetricData', async () => {
    // A unique namespace keeps this test's data apart (moto keeps metrics until reset).
    const namespace = uniqueName('LiveAggTest');
    const now = new Date();
    await cw.send(
      new PutMetricDataCommand({
        Namespace: namespace,
        MetricData: [1, 2, 4].map((v) => ({
          MetricName: 'la_records_total',
          Dimensions: [{ Name: 'InstanceId', Value: 'i-test' }],
          Timestamp: now,
          Value: v,
          Unit: 'Count',
        })),
      }),
    );
    const got = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 5 * 60_000),
        EndTime: new Date(now.getTime() + 5 * 60_000),
        MetricDataQueries: [
          {
            Id: 'records',
            MetricStat: {
              Metric: {
                Namespace: namespace,
                MetricName: 'la_records_total',
                Dimensions: [{ Name: 'InstanceId', Value: 'i-test' }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );
    const result = got.MetricDataResults?.find((r) => r.Id === 'records');
    expect(result?.Values?.reduce((a, b) => a + b, 0)).toBe(7);
  });
});
