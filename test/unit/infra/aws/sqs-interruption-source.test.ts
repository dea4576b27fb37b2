import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  parseInterruptionEvent,
  SqsInterruptionSource,
} from '../../../../infra/aws/sqs-interruption-source.js';

const sqsMock = mockClient(SQSClient);
const sqs = new SQSClient({ region: 'us-east-1' });
const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/liveagg-interruptions';

function warning(instanceId: string, time = '2026-11-26T18:00:00Z') {
  return JSON.stringify({
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    time,
    detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  });
}

beforeEach(() => sqsMock.reset());

describe('parseInterruptionEvent', () => {
  it('reads interruption warnings (deadline 2 min later) and rebalance recommendations', () => {
    expect(parseInterruptionEvent(warning('i-1'))).toEqual({
      instanceId: 'i-1',
      kind: 'interruption',
      issuedAtMs: Date.parse('2026-11-26T18:00:00Z'),
      deadlineMs: Date.parse('2026-11-26T18:02:00Z'),
    });
    expect(
      parseInterruptionEvent(
        JSON.stringify({
          'detail-type': 'EC2 Instance Rebalance Recommendation',
          time: '2026-11-26T18:00:00Z',
          detail: { 'instance-id': 'i-2' },
        }),
      ),
    ).toEqual({ instanceId: 'i-2', kind: 'rebalance', issuedAtMs: Date.parse('2026-11-26T18:00:00Z') });
  });

  it('rejects other events, missing fields and broken JSON', () => {
    expect(
      parseInterruptionEvent('{"detail-type":"EC2 Instance State-change Notification"}'),
    ).toBeUndefined();
    expect(
      parseInterruptionEvent(
        '{"detail-type":"EC2 Spot Instance Interruption Warning","time":"x","detail":{}}',
      ),
    ).toBeUndefined();
    expect(parseInterruptionEvent('not json')).toBeUndefined();
    expect(parseInterruptionEvent('null')).toBeUndefined();
  });
});

describe('SqsInterruptionSource', () => {
  it('drains full batches within one poll, de-duplicates, and deletes every copy on acknowledge', async () => {
    const full = Array.from({ length: 10 }, (_, n) => ({
      ReceiptHandle: `h${n}`,
      Body: warning(`i-${n % 5}`),
    }));
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: full })
      .resolvesOnce({ Messages: [{ ReceiptHandle: 'h10', Body: 'garbage' }] })
      .resolves({ Messages: [] });
    sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const source = new SqsInterruptionSource(sqs, { queueUrl, waitTimeSeconds: 3 });
    const notices = await source.poll();
    expect(notices.map((n) => n.instanceId).sort()).toEqual(['i-0', 'i-1', 'i-2', 'i-3', 'i-4']);
    const receives = sqsMock.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input.WaitTimeSeconds);
    expect(receives).toEqual([3, 0]); // long poll first, then no waiting
    // The garbage message is deleted at once so it does not come back.
    expect(sqsMock.commandCalls(DeleteMessageBatchCommand)[0]?.args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'h10' },
    ]);
    await source.acknowledge(notices);
    const deleted = sqsMock
      .commandCalls(DeleteMessageBatchCommand)
      .slice(1)
      .flatMap((c) => c.args[0].input.Entries?.map((e) => e.ReceiptHandle) ?? []);
    expect(deleted.sort()).toEqual(full.map((m) => m.ReceiptHandle).sort());
    // At most 10 entries per DeleteMessageBatch.
    for (const call of sqsMock.commandCalls(DeleteMessageBatchCommand)) {
      expect(call.args[0].input.Entries?.length).toBeLessThanOrEqual(10);
    }
  });
});
