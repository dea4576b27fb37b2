import { describe, expect, it } from 'vitest';
import {
  InstanceNotFoundError,
  InsufficientSpotCapacityError,
  isNotFound,
  isRetryable,
  ThrottledError,
} from '../../../../autoscaler/ports/errors.js';
import { AwsApiError, callAws, toDomainError } from '../../../../infra/aws/aws-errors.js';

function sdkError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, ...extra });
}

describe('toDomainError', () => {
  it('maps every throttling code and HTTP 429 to a retryable ThrottledError with Retry-After', () => {
    for (const code of ['RequestLimitExceeded', 'Throttling', 'ThrottlingException']) {
      const mapped = toDomainError('SetDesiredCapacity', sdkError(code, 'Rate exceeded'));
      expect(mapped).toBeInstanceOf(ThrottledError);
      expect(isRetryable(mapped)).toBe(true);
    }
    const withHeader = toDomainError(
      'DescribeInstances',
      sdkError('Whatever', 'slow down', {
        $metadata: { httpStatusCode: 429 },
        $response: { headers: { 'retry-after': '3' } },
      }),
    );
    expect(withHeader).toMatchObject({ code: 'THROTTLED', retryAfterMs: 3000 });
  });

  it('maps spot capacity shortages to InsufficientSpotCapacityError naming the pool, not retryable', () => {
    const mapped = toDomainError('CreateFleet', sdkError('InsufficientInstanceCapacity', 'no capacity'), {
      pool: 'm6i.xlarge@us-east-1a',
    });
    expect(mapped).toBeInstanceOf(InsufficientSpotCapacityError);
    expect((mapped as InsufficientSpotCapacityError).pool).toBe('m6i.xlarge@us-east-1a');
    expect(mapped.message).toContain('m6i.xlarge@us-east-1a');
    expect(isRetryable(mapped)).toBe(false);
  });

  it('maps EC2 and Auto Scaling "not found" answers to InstanceNotFoundError when an instance is named', () => {
    const ec2 = toDomainError(
      'CreateTags',
      sdkError('InvalidInstanceID.NotFound', "The instance ID 'i-1' does not exist"),
      {
        instanceId: 'i-1',
      },
    );
    expect(ec2).toBeInstanceOf(InstanceNotFoundError);
    const asg = toDomainError(
      'TerminateInstanceInAutoScalingGroup',
      sdkError('ValidationError', 'Instance Id not found - No managed instance found for instance ID: i-2'),
      { instanceId: 'i-2' },
    );
    expect(isNotFound(asg)).toBe(true);
    expect((asg as InstanceNotFoundError).instanceId).toBe('i-2');
  });

  it('keeps other failures as AwsApiError: 5xx and transport errors retryable, validation errors not', () => {
    const server = toDomainError(
      'DescribeFleets',
      sdkError('InternalError', 'oops', { $metadata: { httpStatusCode: 500 } }),
    );
    expect(server).toBeInstanceOf(AwsApiError);
    expect(isRetryable(server)).toBe(true);
    const reset = toDomainError(
      'DescribeFleets',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    );
    expect(isRetryable(reset)).toBe(true);
    const invalid = toDomainError(
      'SetDesiredCapacity',
      sdkError('ValidationError', 'New SetDesiredCapacity value 200 is above max value 100'),
    );
    expect(invalid).toMatchObject({ code: 'AWS_API_ERROR', awsCode: 'ValidationError', retryable: false });
    expect(invalid.message).toContain('SetDesiredCapacity');
    expect(invalid.message).toContain('above max value 100');
  });

  it('passes domain errors through and callAws rethrows mapped errors', async () => {
    const domain = new InstanceNotFoundError('i-9');
    expect(toDomainError('X', domain)).toBe(domain);
    await expect(
      callAws('TerminateInstances', () => Promise.reject(sdkError('Throttling', 'Rate exceeded'))),
    ).rejects.toBeInstanceOf(ThrottledError);
    await expect(callAws('DescribeInstances', () => Promise.resolve(7))).resolves.toBe(7);
  });
});
