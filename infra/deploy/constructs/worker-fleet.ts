import { aws_autoscaling as autoscaling, Duration, aws_ec2 as ec2, aws_iam as iam, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DeployParams } from '../deploy-params.js';

/** Tag on every managed group and instance; the autoscaler's IAM conditions require it (value: the stack name). */
export const MANAGED_TAG = 'liveagg:managed';
/** The termination lifecycle hook the autoscaler completes after it has drained a worker. */
export const TERMINATION_HOOK_NAME = 'liveagg-drain';

export interface WorkerFleetProps {
  params: DeployParams;
  vpc: ec2.IVpc;
  subnets: ec2.SubnetSelection;
  /** Public IPs for the workers (the created VPC has only public subnets, no NAT). */
  publicIp: boolean;
  userData: ec2.UserData;
  /** Seconds a stop may take (drain + margin): the lifecycle hook waits at least that long. */
  stopTimeoutSeconds: number;
  managedTagValue: string;
}

/**
 * The workers: a launch template (IMDSv2, encrypted gp3, the worker role) and an Auto Scaling group with a
 * mixed-instances policy over several instance types × every AZ of the subnets, all spot above the on-demand base,
 * price-capacity-optimized, capacity rebalance on. Desired capacity is left to the autoscaler (not in the template).
 */
export class WorkerFleet extends Construct {
  readonly role: iam.Role;
  readonly securityGroup: ec2.SecurityGroup;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly group: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const { params } = props;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description:
        'Live Aggregators worker: its checkpoint prefix, its metrics namespace, its admin token. No EC2 or Auto Scaling.',
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Live Aggregators workers (admin API reachable from the autoscaler only)',
      allowAllOutbound: true,
    });
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      role: this.role,
      securityGroup: this.securityGroup,
      userData: props.userData,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      associatePublicIpAddress: props.publicIp,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      minCapacity: params.fleet.minCapacity,
      maxCapacity: params.fleet.maxCapacity,
      capacityRebalance: true,
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        launchTemplateOverrides: params.fleet.instanceTypes.map((t) => ({
          instanceType: new ec2.InstanceType(t.name),
          weightedCapacity: t.weight,
        })),
        instancesDistribution: {
          onDemandBaseCapacity: params.fleet.onDemandBaseCapacity,
          onDemandPercentageAboveBaseCapacity: 0,
          spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
        },
      },
      // The autoscaler chooses which worker leaves (drained first); the group must not pick on its own.
      newInstancesProtectedFromScaleIn: false,
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
    });
    this.group.addLifecycleHook('DrainHook', {
      lifecycleHookName: TERMINATION_HOOK_NAME,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: Duration.seconds(props.stopTimeoutSeconds + 30),
      defaultResult: autoscaling.DefaultResult.CONTINUE,
    });
    Tags.of(this.group).add(MANAGED_TAG, props.managedTagValue, { applyToLaunchedInstances: true });
    Tags.of(this.group).add('liveagg:role', 'worker', { applyToLaunchedInstances: true });
  }
}
