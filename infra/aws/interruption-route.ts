import { type EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { callAws } from './aws-errors.js';
import { INTERRUPTION_EVENT_PATTERN } from './sqs-interruption-source.js';

export interface InterruptionRoute {
  queueUrl: string;
  queueArn: string;
  ruleArn: string;
}

/**
 * Creates (idempotently) the SQS queue and the EventBridge rule that sends "EC2 Spot Instance Interruption Warning" and
 * "EC2 Instance Rebalance Recommendation" events to it, with the queue policy that lets EventBridge deliver.
 */
export async function ensureInterruptionRoute(
  events: Pick<EventBridgeClient, 'send'>,
  sqs: Pick<SQSClient, 'send'>,
  names: { queueName: string; ruleName: string; eventBusName?: string },
): Promise<InterruptionRoute> {
  const created = await callAws('CreateQueue', () =>
    sqs.send(
      new CreateQueueCommand({ QueueName: names.queueName, Attributes: { MessageRetentionPeriod: '3600' } }),
    ),
  );
  const queueUrl = created.QueueUrl;
  if (!queueUrl) throw new Error(`CreateQueue ${names.queueName} returned no QueueUrl`);
  const attrs = await callAws('GetQueueAttributes', () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })),
  );
  const queueArn = attrs.Attributes?.['QueueArn'];
  if (!queueArn) throw new Error(`GetQueueAttributes ${queueUrl} returned no QueueArn`);
  const rule = await callAws('PutRule', () =>
    events.send(
      new PutRuleCommand({
        Name: names.ruleName,
        EventPattern: JSON.stringify(INTERRUPTION_EVENT_PATTERN),
        State: 'ENABLED',
        Description:
          'liveagg: spot interruption warnings and rebalance recommendations to the autoscaler queue',
        ...(names.eventBusName ? { EventBusName: names.eventBusName } : {}),
      }),
    ),
  );
  const ruleArn = rule.RuleArn ?? '';
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'liveagg-eventbridge',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      },
    ],
  };
  await callAws('SetQueueAttributes', () =>
    sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
    ),
  );
  await callAws('PutTargets', () =>
    events.send(
      new PutTargetsCommand({
        Rule: names.ruleName,
        Targets: [{ Id: 'liveagg-autoscaler-queue', Arn: queueArn }],
        ...(names.eventBusName ? { EventBusName: names.eventBusName } : {}),
      }),
    ),
  );
  return { queueUrl, queueArn, ruleArn };
}
