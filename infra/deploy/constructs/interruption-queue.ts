import { Duration, aws_events as events, aws_sqs as sqs, aws_events_targets as targets } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The EventBridge detail-types the autoscaler reacts to (replace a worker ahead of its interruption). */
export const INTERRUPTION_DETAIL_TYPES = [
  'EC2 Spot Instance Interruption Warning',
  'EC2 Instance Rebalance Recommendation',
] as const;

/**
 * EventBridge rule for spot interruption warnings and rebalance recommendations, delivered to an SQS queue the
 * autoscaler consumes. The queue policy (added by the target) lets only this rule send (aws:SourceArn), TLS only.
 */
export class InterruptionQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A warning is worth acting on for 2 minutes; older ones only describe instances that are gone.
      retentionPeriod: Duration.minutes(15),
      visibilityTimeout: Duration.seconds(60),
    });
    this.rule = new events.Rule(this, 'Rule', {
      description:
        'Spot interruption warnings and rebalance recommendations for the Live Aggregators autoscaler',
      eventPattern: { source: ['aws.ec2'], detailType: [...INTERRUPTION_DETAIL_TYPES] },
    });
    this.rule.addTarget(new targets.SqsQueue(this.queue));
  }
}
