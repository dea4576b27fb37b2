import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '../../../infra/aws/aws-clients.js';
import { awsConnection, createQueue } from '../helpers/stack-endpoints.js';

const sqs = createSqsClient(awsConnection);
afterAll(() => sqs.destroy());

describe('SQS on moto (AWS SDK v3)', () => {
  it('sends, receives and deletes a message', async () => {
    const queueUrl = await createQueue(sqs);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"event":"spot-interruption"}' }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(received.Messages?.map((m) => m.Body)).toEqual(['{"event":"spot-interruption"}']);
    const handle = received.Messages?.[0]?.ReceiptHandle;
    expect(handle).toBeDefined();
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handle }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes?.['ApproximateNumberOfMessages']).toBe('0');
    expect(attrs.Attributes?.['ApproximateNumberOfMessagesNotVisible']).toBe('0');
  });
});
