import {
  CfnOutput,
  aws_ec2 as ec2,
  aws_iam as iam,
  Stack,
  type StackProps,
  aws_secretsmanager as sm,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AutoscalerService } from './constructs/autoscaler-service.js';
import { CheckpointBucket } from './constructs/checkpoint-bucket.js';
import { InterruptionQueue } from './constructs/interruption-queue.js';
import { Monitoring } from './constructs/monitoring.js';
import { MANAGED_TAG, TERMINATION_HOOK_NAME, WorkerFleet } from './constructs/worker-fleet.js';
import type { DeployParams } from './deploy-params.js';
import { LIVEAGG_NAMESPACE } from './metric-names.js';
import { renderUserData, stopTimeoutSeconds } from './user-data.js';
import { CONFIG_PATH, renderDeploymentConfig } from './worker-config.js';

/** Written next to the config on the autoscaler instance: what it manages (group, hook, queue, bucket, tag; for `liveagg autoscaler`). */
export const DEPLOYMENT_FACTS_PATH = '/etc/liveagg/deployment.json';
const AUTOSCALER_STOP_MS = 30_000;

export interface LiveAggStackProps extends StackProps {
  params: DeployParams;
}

/** The whole deployment: checkpoint bucket, interruption queue, worker fleet, autoscaler, alarms and dashboard. */
export class LiveAggStack extends Stack {
  readonly checkpoints: CheckpointBucket;
  readonly interruptions: InterruptionQueue;
  readonly workers: WorkerFleet;
  readonly autoscaler: AutoscalerService;
  readonly monitoring: Monitoring;
  /** The config YAML written to the instances (validated by the worker's schema). */
  readonly configYaml: string;

  constructor(scope: Construct, id: string, props: LiveAggStackProps) {
    super(scope, id, props);
    const { params } = props;
    const managedTagValue = this.stackName;
    // The AZs are listed explicitly on purpose (synth stays offline, no lookup): tell cfn-lint so (W3010).
    this.templateOptions.metadata = { 'cfn-lint': { config: { ignore_checks: ['W3010'] } } };

    const { vpc, subnets, publicIp } = this.network(params);
    this.checkpoints = new CheckpointBucket(this, 'Checkpoints', {
      ...(params.bucketName === undefined ? {} : { bucketName: params.bucketName }),
      prefix: params.checkpointPrefix,
      retentionDays: params.checkpointRetentionDays,
    });
    this.interruptions = new InterruptionQueue(this, 'Interruptions');

    const rendered = renderDeploymentConfig(params, { bucketName: this.checkpoints.bucket.bucketName });
    this.configYaml = rendered.yaml;
    const worker = rendered.config.worker;
    const drainTimeoutMs = worker?.drainTimeoutMs ?? 90_000;
    const adminPort = worker?.admin.port ?? 19100;

    const workerUserData = ec2.UserData.forLinux();
    workerUserData.addCommands(
      ...renderUserData({
        role: 'worker',
        params,
        configYaml: rendered.yaml,
        command: `liveagg worker --config ${CONFIG_PATH}`,
        drainTimeoutMs,
      }),
    );
    this.workers = new WorkerFleet(this, 'Workers', {
      params,
      vpc,
      subnets,
      publicIp,
      userData: workerUserData,
      stopTimeoutSeconds: stopTimeoutSeconds(drainTimeoutMs),
      managedTagValue,
    });

    const facts = {
      region: params.region,
      workerGroupName: this.workers.group.autoScalingGroupName,
      terminationHookName: TERMINATION_HOOK_NAME,
      interruptionQueueUrl: this.interruptions.queue.queueUrl,
      checkpointBucket: this.checkpoints.bucket.bucketName,
      managedTag: { key: MANAGED_TAG, value: managedTagValue },
      metricsNamespace: LIVEAGG_NAMESPACE,
    };
    const autoscalerUserData = ec2.UserData.forLinux();
    autoscalerUserData.addCommands(
      ...renderUserData({
        role: 'autoscaler',
        params,
        configYaml: rendered.yaml,
        command: params.autoscalerInstance.command,
        drainTimeoutMs: AUTOSCALER_STOP_MS,
        extraFiles: { [DEPLOYMENT_FACTS_PATH]: `${JSON.stringify(facts, null, 2)}\n` },
      }),
    );
    this.autoscaler = new AutoscalerService(this, 'Autoscaler', {
      vpc,
      subnets,
      publicIp,
      instanceType: params.autoscalerInstance.instanceType,
      userData: autoscalerUserData,
      managedTagValue,
    });

    // Worker permissions: its checkpoint prefix, its namespace, its token. Nothing on EC2 or Auto Scaling.
    this.checkpoints.grantPrefixReadWrite(this.workers.role);
    this.workers.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishWorkerMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': LIVEAGG_NAMESPACE } },
      }),
    );
    // Autoscaler permissions: tagged fleets, metrics, its queue, the token (it calls the workers' admin API).
    this.autoscaler.allowManageGroup(this.workers.group.autoScalingGroupArn);
    this.interruptions.queue.grantConsumeMessages(this.autoscaler.role);
    for (const role of [this.workers.role, this.autoscaler.role]) this.grantTokenRead(params, role);

    this.workers.securityGroup.addIngressRule(
      this.autoscaler.securityGroup,
      ec2.Port.tcp(adminPort),
      'admin API and /metrics from the autoscaler',
    );

    this.monitoring = new Monitoring(this, 'Monitoring', {
      dashboardName: `${this.stackName}-overview`,
      maxLagRecords: params.alarms.maxLagRecords,
      lagEvaluationMinutes: params.alarms.lagEvaluationMinutes,
      interruptionQueue: this.interruptions.queue,
    });

    new CfnOutput(this, 'CheckpointBucketName', { value: this.checkpoints.bucket.bucketName });
    new CfnOutput(this, 'WorkerGroupName', { value: this.workers.group.autoScalingGroupName });
    new CfnOutput(this, 'InterruptionQueueUrl', { value: this.interruptions.queue.queueUrl });
  }

  private network(params: DeployParams): { vpc: ec2.IVpc; subnets: ec2.SubnetSelection; publicIp: boolean } {
    if (params.network.vpcId !== undefined) {
      const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: params.network.vpcId,
        availabilityZones: params.availabilityZones,
        privateSubnetIds: params.network.subnetIds,
      });
      return { vpc, subnets: { subnets: vpc.privateSubnets }, publicIp: false };
    }
    // Public subnets only (no NAT gateway cost); instances have public IPs but no inbound rule from outside the VPC.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(params.network.vpcCidr),
      availabilityZones: params.availabilityZones,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    return { vpc, subnets: { subnetType: ec2.SubnetType.PUBLIC }, publicIp: true };
  }

  private grantTokenRead(params: DeployParams, role: iam.IGrantable): void {
    const t = params.adminToken;
    if ('secretsManagerSecretName' in t) {
      sm.Secret.fromSecretNameV2(
        this,
        `AdminToken${role === this.workers.role ? 'W' : 'A'}`,
        t.secretsManagerSecretName,
      ).grantRead(role);
    } else {
      ssm.StringParameter.fromSecureStringParameterAttributes(
        this,
        `AdminToken${role === this.workers.role ? 'W' : 'A'}`,
        {
          parameterName: t.ssmParameterName,
        },
      ).grantRead(role);
    }
  }
}
