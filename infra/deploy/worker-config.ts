import { stringify as stringifyYaml } from 'yaml';
import type { z } from 'zod';
import type { configSchema, LiveAggConfig } from '../config/config-schema.js';
import { deepMerge, parseConfig } from '../config/load-config.js';
import type { DeployParams } from './deploy-params.js';

/** Where the instances read the liveagg config; the systemd units pass it to `--config`. */
export const CONFIG_PATH = '/etc/liveagg/config.yaml';
/** The environment variable (see load-config envOverrides) that carries the admin token into the config. */
export const ADMIN_TOKEN_ENV = 'LIVEAGG__WORKER__ADMIN__TOKEN';
/** Stand-in for the token while validating at synth time: the real one is fetched at boot, never templated. */
const TOKEN_PLACEHOLDER = 'synth-time-placeholder-admin-token';

export type ConfigInput = z.input<typeof configSchema>;

/** The values only the deployment knows (bucket name may be a CloudFormation token). */
export interface DeploymentFacts {
  bucketName: string;
}

/**
 * The config document the instances get: the user's `config` with the deployment's endpoints, bucket, region and fleet
 * bounds laid over it. Typed against the config schema's input, so a renamed field fails to compile.
 */
export function deploymentConfigDoc(params: DeployParams, facts: DeploymentFacts): ConfigInput {
  const overrides: ConfigInput = {
    kafka: { brokers: params.kafka.brokers, ssl: params.kafka.ssl },
    cassandra: {
      contactPoints: params.cassandra.contactPoints,
      localDataCenter: params.cassandra.localDataCenter,
    },
    aws: { region: params.region },
    worker: {
      checkpoint: { store: 's3', bucket: facts.bucketName, prefix: params.checkpointPrefix },
      // Reachable by the autoscaler (security group allows only it); the token comes from the environment.
      admin: { host: '0.0.0.0' },
      notices: { enabled: true },
      cloudwatch: { enabled: true },
    },
    autoscaler: {
      targetUtilization: params.fleet.targetUtilization,
      minUnits: params.fleet.minCapacity,
      maxUnits: params.fleet.maxCapacity,
      availabilityZones: params.availabilityZones,
    },
  };
  return deepMerge(params.config, overrides) as ConfigInput;
}

/** Validates a config document exactly as `liveagg worker` will (with the admin token supplied by the environment). */
export function validateDeploymentConfig(doc: unknown, source = 'deploy parameters: config'): LiveAggConfig {
  return parseConfig(doc, source, { [ADMIN_TOKEN_ENV]: TOKEN_PLACEHOLDER });
}

export interface RenderedConfig {
  /** The YAML written to {@link CONFIG_PATH}. */
  yaml: string;
  /** The validated config (defaults applied) that YAML yields. */
  config: LiveAggConfig;
}

/** Renders the instances' config YAML and validates it with the worker's own parser before it is embedded. */
export function renderDeploymentConfig(params: DeployParams, facts: DeploymentFacts): RenderedConfig {
  const doc = deploymentConfigDoc(params, facts);
  const config = validateDeploymentConfig(doc);
  const yaml = `# Rendered by liveagg deploy (infra/deploy); validated with the worker's config schema.\n${stringifyYaml(doc)}`;
  return { yaml, config };
}
