import { aws_cloudwatch as cw, Duration, type aws_sqs as sqs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LIVEAGG_NAMESPACE, type LiveAggMetricName, metricName } from '../metric-names.js';

export interface MonitoringProps {
  dashboardName: string;
  maxLagRecords: number;
  lagEvaluationMinutes: number;
  interruptionQueue: sqs.IQueue;
}

/** Metrics Insights query over every series of one metric (all instances, partitions) in the namespace. */
export function insightsQuery(fn: 'MAX' | 'SUM' | 'AVG', name: LiveAggMetricName): string {
  return `SELECT ${fn}(${name}) FROM ${LIVEAGG_NAMESPACE}`;
}

function search(name: LiveAggMetricName, stat: string, label: string): cw.MathExpression {
  return new cw.MathExpression({
    expression: `SEARCH('{${LIVEAGG_NAMESPACE}} MetricName="${name}"', '${stat}', 60)`,
    usingMetrics: {},
    label,
    period: Duration.minutes(1),
  });
}

/**
 * Alarms and a dashboard over the namespace. The workers publish per-instance, per-partition series, so the alarms
 * aggregate with Metrics Insights queries (one series each, no dimension to pin).
 */
export class Monitoring extends Construct {
  readonly lagAlarm: cw.CfnAlarm;
  readonly drainFailureAlarm: cw.CfnAlarm;
  readonly queueAgeAlarm: cw.Alarm;
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.lagAlarm = new cw.CfnAlarm(this, 'LagAlarm', {
      alarmDescription: `Some partition is more than ${props.maxLagRecords} records behind for ${props.lagEvaluationMinutes} min`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: props.maxLagRecords,
      evaluationPeriods: props.lagEvaluationMinutes,
      datapointsToAlarm: props.lagEvaluationMinutes,
      treatMissingData: 'missing',
      metrics: [
        {
          id: 'lag',
          expression: insightsQuery('MAX', metricName('la_consumer_lag_records')),
          period: 60,
          returnData: true,
        },
      ],
    });
    this.drainFailureAlarm = new cw.CfnAlarm(this, 'DrainFailureAlarm', {
      alarmDescription:
        'A worker was terminated before its drain finished (state replayed from an older checkpoint)',
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
      metrics: [
        {
          id: 'drainFailures',
          expression: insightsQuery('SUM', metricName('la_drain_failures_total')),
          period: 300,
          returnData: true,
        },
      ],
    });
    this.queueAgeAlarm = new cw.Alarm(this, 'InterruptionQueueAgeAlarm', {
      alarmDescription: 'Interruption notices wait unread: the autoscaler is not consuming its queue',
      metric: props.interruptionQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) }),
      threshold: 120,
      evaluationPeriods: 3,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    this.dashboard = new cw.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Consumer lag (records, per series)',
        left: [search('la_consumer_lag_records', 'Maximum', 'lag')],
        width: 12,
      }),
      new cw.GraphWidget({
        title: 'Records consumed / min',
        left: [search('la_consumer_records_total', 'Sum', 'records')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'State memory used (bytes)',
        left: [search('la_memory_used_bytes', 'Maximum', 'used')],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Checkpoint age (s)',
        left: [search('la_checkpoint_age_seconds', 'Maximum', 'age')],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Drain failures',
        left: [search('la_drain_failures_total', 'Sum', 'failures')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.AlarmStatusWidget({
        title: 'Alarms',
        alarms: [
          cw.Alarm.fromAlarmArn(this, 'LagRef', this.lagAlarm.attrArn),
          cw.Alarm.fromAlarmArn(this, 'DrainRef', this.drainFailureAlarm.attrArn),
          this.queueAgeAlarm,
        ],
        width: 24,
      }),
    );
  }
}
