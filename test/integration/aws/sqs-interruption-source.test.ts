import { DeleteRuleCommand, PutEventsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { createEventBridgeClient, createSqsClient } from '../../../infra/aws/aws-clients.js';
import { ensureInterruptionRoute } from '../../../infra/aws/interruption-route.js';
import { SqsInterruptionSource } from '../../../infra/aws/sqs-interruption-source.js';
import { awsConnection, createQueue, uniqueName } from '../helpers/stack-endpoints.js';

const sqs = createSqsClient(awsConnection);
const events = createEventBridgeClient(awsConnection);
afterAll(() => {
  sqs.destroy();
  events.destroy();
});

/** The documented example event (EventBridge → SQS body). */
function spotWarning(instanceId: string, time: string): string {
  return JSON.stringify({
    version: '0',
    id: '12345678-1234-1234-1234-123456789012',
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    account: '123456789012',
    time,
    region: 'us-east-1',
    resources: [`arn:aws:ec2:us-east-1a:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  });
}

async function approximateMessages(queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 0) +
    Number(out.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0)
  );
}

describe('SqsInterruptionSource against moto', () => {
  it('receives a spot interruption warning from the queue, skips foreign messages, and deletes on acknowledge', async () => {
    const queueUrl = await createQueue(sqs, 'la-test-int');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: spotWarning('i-0abc', '2026-11-26T18:00:00Z'),
      }),
    );
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"detail-type":"EC2 Instance State-change Notification"}',
      }),
    );
    const ignored: string[] = [];
    const source = new SqsInterruptionSource(sqs, {
      queueUrl,
      waitTimeSeconds: 1,
      visibilityTimeoutSeconds: 1,
      onIgnored: (reason) => ignored.push(reason),
    });
    const notices = await source.poll();
    expect(notices).toEqual([
      {
        instanceId: 'i-0abc',
        kind: 'interruption',
        issuedAtMs: Date.parse('2026-11-26T18:00:00Z'),
        deadlineMs: Date.parse('2026-11-26T18:02:00Z'),
      },
    ]);
    expect(ignored).toHaveLength(1);
    await source.acknowledge(notices);
    expect(await approximateMessages(queueUrl)).toBe(0);
  });

  it('redelivers a notice that was not acknowledged', async () => {
    const queueUrl = await createQueue(sqs, 'la-test-int');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: spotWarning('i-0def', '2026-11-26T18:00:00Z'),
      }),
    );
    const source = new SqsInterruptionSource(sqs, {
      queueUrl,
      waitTimeSeconds: 0,
      visibilityTimeoutSeconds: 1,
    });
    expect(await source.poll()).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    const again = await source.poll();
    expect(again.map((n) => n.instanceId)).toEqual(['i-0def']);
    await source.acknowledge(again);
    expect(await approximateMessages(queueUrl)).toBe(0);
  });

  it('an EventBridge rule routes PutEvents rebalance recommendations to the queue', async () => {
    const queueName = uniqueName('la-test-route');
    const ruleName = uniqueName('la-test-rule');
    const route = await ensureInterruptionRoute(events, sqs, { queueName, ruleName });
    onTestFinished(async () => {
      await events.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ['liveagg-autoscaler-queue'] }));
      await events.send(new DeleteRuleCommand({ Name: ruleName }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl: route.queueUrl }));
    });
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'aws.ec2',
            DetailType: 'EC2 Instance Rebalance Recommendation',
            Detail: JSON.stringify({ 'instance-id': 'i-0reb' }),
            Time: new Date('2026-11-26T18:05:00Z'),
          },
          {
            Source: 'aws.ec2',
            DetailType: 'EC2 Instance State-change Notification',
            Detail: JSON.stringify({ 'instance-id': 'i-0other', state: 'running' }),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount ?? 0).toBe(0);
    const source = new SqsInterruptionSource(sqs, { queueUrl: route.queueUrl, waitTimeSeconds: 2 });
    const notices = await source.poll();
    expect(notices).toEqual([
      { instanceId: 'i-0reb', kind: 'rebalance', issuedAtMs: Date.parse('2026-11-26T18:05:00Z') },
    ]);
    await source.acknowledge(notices);
    expect(await approximateMessages(route.queueUrl)).toBe(0);
  });
});
