import { Duration, aws_iam as iam, RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface CheckpointBucketProps {
  /** Fixed bucket name; unset = generated. */
  bucketName?: string;
  /** Key prefix of the checkpoints (no slashes). */
  prefix: string;
  /** Checkpoint objects older than this many days are expired. */
  retentionDays: number;
}

/**
 * The checkpoint bucket: SSE-S3, all public access blocked, TLS only, unversioned (a worker deletes old checkpoints
 * itself; with versioning every delete would leave a marker and a noncurrent copy), lifecycle expiry of old checkpoints
 * and of incomplete multipart uploads left by a worker killed mid-upload. Retained when the stack is deleted.
 */
export class CheckpointBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly prefix: string;

  constructor(scope: Construct, id: string, props: CheckpointBucketProps) {
    super(scope, id);
    this.prefix = props.prefix;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(props.bucketName === undefined ? {} : { bucketName: props.bucketName }),
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-old-checkpoints',
          prefix: `${props.prefix}/`,
          expiration: Duration.days(props.retentionDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** Read/write of objects under the checkpoint prefix only, and listing only that prefix. */
  grantPrefixReadWrite(role: iam.IGrantable): void {
    const objects = this.bucket.arnForObjects(`${this.prefix}/*`);
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckpointObjects',
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        resources: [objects],
      }),
    );
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckpointList',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [this.prefix, `${this.prefix}/*`] } },
      }),
    );
  }
}
