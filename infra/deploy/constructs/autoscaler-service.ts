import {
  Arn,
  aws_autoscaling as autoscaling,
  Duration,
  aws_ec2 as ec2,
  aws_iam as iam,
  Stack,
  Tags,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LIVEAGG_NAMESPACE } from '../metric-names.js';
import { MANAGED_TAG } from './worker-fleet.js';

export interface AutoscalerServiceProps {
  vpc: ec2.IVpc;
  subnets: ec2.SubnetSelection;
  publicIp: boolean;
  instanceType: string;
  userData: ec2.UserData;
  managedTagValue: string;
}

/**
 * The autoscaler: one on-demand instance in an Auto Scaling group of exactly one (replaced if it fails), running the
 * same package and bootstrap as the workers. Its role may change only groups and instances tagged
 * `liveagg:managed=<stack>` and only `liveagg:*` tags on them, read metrics, consume one queue.
 */
export class AutoscalerService extends Construct {
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly group: autoscaling.AutoScalingGroup;
  private readonly managedTagValue: string;

  constructor(scope: Construct, id: string, props: AutoscalerServiceProps) {
    super(scope, id);
    this.managedTagValue = props.managedTagValue;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description:
        'Live Aggregators autoscaler: resize and drain only tagged worker fleets, read metrics, consume its queue.',
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Live Aggregators autoscaler (no inbound)',
      allowAllOutbound: true,
    });
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType(props.instanceType),
      role: this.role,
      securityGroup: this.securityGroup,
      userData: props.userData,
      requireImdsv2: true,
      associatePublicIpAddress: props.publicIp,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      launchTemplate,
      minCapacity: 1,
      maxCapacity: 1,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
    });
    Tags.of(this.group).add('liveagg:role', 'autoscaler', { applyToLaunchedInstances: true });
  }

  /** Mutations on the worker group, conditioned on the managed tag. */
  allowManageGroup(groupArn: string): void {
    const tagged = { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG}`]: this.managedTagValue } };
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ResizeManagedFleet',
        actions: [
          'autoscaling:SetDesiredCapacity',
          'autoscaling:TerminateInstanceInAutoScalingGroup',
          'autoscaling:CompleteLifecycleAction',
          'autoscaling:RecordLifecycleActionHeartbeat',
        ],
        resources: [groupArn],
        conditions: tagged,
      }),
    );
    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagManagedWorkers',
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: [Arn.format({ service: 'ec2', resource: 'instance', resourceName: '*' }, stack)],
        conditions: { ...tagged, 'ForAllValues:StringLike': { 'aws:TagKeys': ['liveagg:*'] } },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeFleet',
        // Describe calls have no resource-level permissions: read-only on *.
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeScalingActivities',
          'autoscaling:DescribeLifecycleHooks',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeSpotPriceHistory',
          'ec2:DescribeAvailabilityZones',
        ],
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadMetrics',
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:GetMetricStatistics', 'cloudwatch:ListMetrics'],
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishOwnMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': LIVEAGG_NAMESPACE } },
      }),
    );
  }
}
