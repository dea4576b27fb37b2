import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConnection } from '../config/connections-schema.js';

interface CommonClientConfig {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/**
 * Client settings from the `aws` config section: an endpoint override and static credentials
 * aim every client at moto locally; on AWS both are unset and the SDK's defaults apply.
 */
export function awsClientConfig(conn: AwsConnection): CommonClientConfig {
  const cfg: CommonClientConfig = { region: conn.region, maxAttempts: 3 };
  if (conn.endpoint) cfg.endpoint = conn.endpoint;
  if (conn.accessKeyId && conn.secretAccessKey) {
    cfg.credentials = { accessKeyId: conn.accessKeyId, secretAccessKey: conn.secretAccessKey };
  } else if (conn.endpoint) {
    // A local endpoint (moto) accepts any credentials; do not go looking for real ones.
    cfg.credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  }
  return cfg;
}

export function createS3Client(conn: AwsConnection): S3Client {
  // Path-style addressing for endpoints that are not virtual-host capable (moto on 127.0.0.1).
  return new S3Client({ ...awsClientConfig(conn), forcePathStyle: conn.endpoint !== undefined });
}
export const createEc2Client = (conn: AwsConnection) => new EC2Client(awsClientConfig(conn));
export const createAutoScalingClient = (conn: AwsConnection) => new AutoScalingClient(awsClientConfig(conn));
export const createCloudWatchClient = (conn: AwsConnection) => new CloudWatchClient(awsClientConfig(conn));
export const createSqsClient = (conn: AwsConnection) => new SQSClient(awsClientConfig(conn));
export const createEventBridgeClient = (conn: AwsConnection) => new EventBridgeClient(awsClientConfig(conn));
