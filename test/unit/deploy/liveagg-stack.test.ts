import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { INTERRUPTION_DETAIL_TYPES } from '../../../infra/deploy/constructs/interruption-queue.js';
import { MANAGED_TAG } from '../../../infra/deploy/constructs/worker-fleet.js';
import { EXAMPLE_PARAMS, parseDeployParams } from '../../../infra/deploy/deploy-params.js';
import { LIVEAGG_NAMESPACE } from '../../../infra/deploy/metric-names.js';
import { type SynthResult, synthesize } from '../../../infra/deploy/synth.js';

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const READ_ONLY = /^[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*$/;

/** Every Allow statement in the template (identity and resource policies), with where it came from. */
function allowStatements(resources: Resources): { where: string; st: Statement }[] {
  const out: { where: string; st: Statement }[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const doc = (r.Properties.PolicyDocument ?? r.Properties.AssumeRolePolicyDocument) as
      | { Statement: Statement[] }
      | undefined;
    const inline =
      (r.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? [];
    const docs = [...(doc ? [doc] : []), ...inline.map((p) => p.PolicyDocument)];
    for (const d of docs)
      for (const st of d.Statement) if (st.Effect === 'Allow') out.push({ where: id, st });
  }
  return out;
}

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined ? [] : [x]);

/** The rules of least privilege the issue asks for; returns one line per violation. */
function violations(resources: Resources): string[] {
  const bad: string[] = [];
  for (const { where, st } of allowStatements(resources)) {
    const actions = list(st.Action).map(String);
    const anyResource = list(st.Resource).includes('*');
    const label = `${where}${st.Sid ? `/${st.Sid}` : ''}`;
    for (const a of actions) {
      if (a === '*' || a.endsWith(':*')) bad.push(`${label}: wildcard action ${a}`);
      const mutating = !READ_ONLY.test(a) && a !== 'sts:AssumeRole';
      if (mutating && anyResource && st.Condition === undefined)
        bad.push(`${label}: mutating ${a} on * without a condition`);
      const tagged = Object.values(st.Condition ?? {}).some((c) =>
        Object.keys(c).some((k) => k.startsWith('aws:ResourceTag/')),
      );
      if (mutating && /^(ec2|autoscaling):/.test(a) && !tagged)
        bad.push(`${label}: ${a} without an aws:ResourceTag condition`);
    }
  }
  return bad;
}

function policyOf(resources: Resources, idPrefix: string): Statement[] {
  const entry = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(idPrefix),
  );
  if (!entry) throw new Error(`no IAM policy ${idPrefix}*`);
  return (entry[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

describe('LiveAggStack (synthesized once)', () => {
  let template: Template;
  let resources: Resources;
  let summary: SynthResult;
  beforeAll(() => {
    const params = parseDeployParams({
      ...EXAMPLE_PARAMS,
      account: '123456789012',
      config: { worker: { drainTimeoutMs: 100_000 } },
    });
    // One synth per file, through the same function `liveagg deploy synth` uses.
    summary = synthesize(params, mkdtempSync(path.join(tmpdir(), 'liveagg-synth-test-')));
    const file = summary.templates[0]?.templateFile ?? '';
    template = Template.fromJSON(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
    resources = template.toJSON().Resources as Resources;
  }, 120_000);

  it('summarizes what it wrote (the CLI --json document)', () => {
    expect(summary.templates.map((t) => t.stackName)).toEqual(['LiveAggregators']);
    const t = summary.templates[0];
    expect(t?.resourceCount).toBe(Object.keys(resources).length);
    expect(t?.resourceTypes['AWS::AutoScaling::AutoScalingGroup']).toBe(2);
  });

  it('has the fleet, autoscaler, bucket, queue, rule, alarms and dashboard', () => {
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 2);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 2);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('runs workers on a mixed-instances spot policy across types and AZs with capacity rebalance', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      CapacityRebalance: true,
      MixedInstancesPolicy: {
        InstancesDistribution: {
          OnDemandPercentageAboveBaseCapacity: 0,
          SpotAllocationStrategy: 'price-capacity-optimized',
        },
        LaunchTemplate: {
          Overrides: [
            { InstanceType: 'm6i.xlarge', WeightedCapacity: '4' },
            { InstanceType: 'm5.xlarge', WeightedCapacity: '4' },
            { InstanceType: 'c6i.xlarge', WeightedCapacity: '4' },
          ],
        },
      },
      VPCZoneIdentifier: [
        { Ref: Match.stringLikeRegexp('Subnet1') },
        { Ref: Match.stringLikeRegexp('Subnet2') },
        { Ref: Match.stringLikeRegexp('Subnet3') },
      ],
      Tags: Match.arrayWith([{ Key: MANAGED_TAG, Value: 'LiveAggregators', PropagateAtLaunch: true }]),
    });
    const azs = Object.values(resources)
      .filter((r) => r.Type === 'AWS::EC2::Subnet')
      .map((r) => r.Properties.AvailabilityZone);
    expect(azs).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
  });

  it('runs the autoscaler as one on-demand instance', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '1',
      MaxSize: '1',
      MixedInstancesPolicy: Match.absent(),
    });
  });

  it('grants no wildcard action and no unconditioned mutation (every Allow statement walked)', () => {
    const all = allowStatements(resources);
    expect(all.length).toBeGreaterThan(10);
    expect(violations(resources)).toEqual([]);
  });

  it('the walker catches a broad statement (so the check above can fail)', () => {
    const broken: Resources = {
      P: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyDocument: {
            Statement: [
              { Effect: 'Allow', Action: 'ec2:*', Resource: '*' },
              { Effect: 'Allow', Action: 'autoscaling:SetDesiredCapacity', Resource: 'arn:x' },
              { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' },
            ],
          },
        },
      },
    };
    expect(violations(broken)).toHaveLength(5);
  });

  it('scopes the worker role to its prefix and namespace, with nothing on EC2 or Auto Scaling', () => {
    const st = policyOf(resources, 'WorkersRole');
    const actions = st.flatMap((s) => list(s.Action).map(String));
    expect(actions.filter((a) => /^(ec2|autoscaling|sqs):/.test(a))).toEqual([]);
    const objects = st.find((s) => s.Sid === 'CheckpointObjects');
    expect(JSON.stringify(objects?.Resource)).toContain('/checkpoints/*');
    expect(st.find((s) => s.Sid === 'CheckpointList')?.Condition).toEqual({
      StringLike: { 's3:prefix': ['checkpoints', 'checkpoints/*'] },
    });
    const put = st.filter((s) => list(s.Action).includes('cloudwatch:PutMetricData'));
    expect(put.map((s) => s.Condition)).toEqual([
      { StringEquals: { 'cloudwatch:namespace': LIVEAGG_NAMESPACE } },
    ]);
  });

  it('lets the autoscaler mutate only tagged fleets and consume only its queue', () => {
    const st = policyOf(resources, 'AutoscalerRole');
    const resize = st.find((s) => s.Sid === 'ResizeManagedFleet');
    expect(resize?.Condition).toEqual({
      StringEquals: { [`aws:ResourceTag/${MANAGED_TAG}`]: 'LiveAggregators' },
    });
    const tags = st.find((s) => s.Sid === 'TagManagedWorkers');
    expect(tags?.Condition?.['ForAllValues:StringLike']).toEqual({ 'aws:TagKeys': ['liveagg:*'] });
    const sqs = st.filter((s) => list(s.Action).some((a) => String(a).startsWith('sqs:')));
    expect(sqs).toHaveLength(1);
    expect(sqs[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^InterruptionsQueue/), 'Arn'] });
  });

  it('routes both interruption detail-types into the queue, which only that rule may send to', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': [...INTERRUPTION_DETAIL_TYPES] },
    });
    expect(INTERRUPTION_DETAIL_TYPES).toEqual([
      'EC2 Spot Instance Interruption Warning',
      'EC2 Instance Rebalance Recommendation',
    ]);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              ArnEquals: {
                'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^InterruptionsRule'), 'Arn'] },
              },
            },
          }),
        ]),
      },
    });
  });

  it('gives the worker unit a stop timeout longer than its drain, and a matching termination hook', () => {
    const lt = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::EC2::LaunchTemplate' && id.startsWith('Workers'),
    )?.[1];
    const userData = JSON.stringify(lt?.Properties.LaunchTemplateData);
    const stop = Number(/TimeoutStopSec=(\d+)/.exec(userData)?.[1]);
    expect(stop).toBeGreaterThan(100); // drainTimeoutMs 100_000 in the parameters' config
    expect(userData).toContain('liveagg worker --config /etc/liveagg/config.yaml');
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      HeartbeatTimeout: Match.anyValue(),
    });
    const hook = Object.values(resources).find((r) => r.Type === 'AWS::AutoScaling::LifecycleHook');
    expect(Number(hook?.Properties.HeartbeatTimeout)).toBeGreaterThan(stop);
  });

  it('configures the checkpoint bucket: SSE, no public access, TLS only, lifecycle, no versioning', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: Match.absent(),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'checkpoints/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms on lag and drain failures with Metrics Insights over the namespace', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: `SELECT MAX(la_consumer_lag_records) FROM ${LIVEAGG_NAMESPACE}` }),
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: `SELECT SUM(la_drain_failures_total) FROM ${LIVEAGG_NAMESPACE}` }),
      ],
    });
  });
});
