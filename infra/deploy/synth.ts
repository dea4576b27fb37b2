import { App } from 'aws-cdk-lib';
import type { DeployParams } from './deploy-params.js';
import { LiveAggStack } from './liveagg-stack.js';

export interface SynthesizedTemplate {
  stackName: string;
  /** Absolute path of the CloudFormation template (JSON). */
  templateFile: string;
  resourceCount: number;
  /** Resource count per CloudFormation type. */
  resourceTypes: Record<string, number>;
}

export interface SynthResult {
  outDir: string;
  templates: SynthesizedTemplate[];
}

/**
 * Builds the app for the parameters, offline: the account stays a token unless given, the AZs are explicit (seeded
 * into the context so nothing is looked up), the AMI is an SSM parameter resolved by CloudFormation at deploy time.
 */
export function buildApp(params: DeployParams, outDir?: string): { app: App; stack: LiveAggStack } {
  const app = new App({ ...(outDir === undefined ? {} : { outdir: outDir }) });
  if (params.account !== undefined) {
    app.node.setContext(
      `availability-zones:account=${params.account}:region=${params.region}`,
      params.availabilityZones,
    );
  }
  const stack = new LiveAggStack(app, params.stackName, {
    params,
    stackName: params.stackName,
    env: { ...(params.account === undefined ? {} : { account: params.account }), region: params.region },
    description:
      'Live Aggregators: spot worker fleet, autoscaler, checkpoint bucket, interruption queue, alarms',
  });
  return { app, stack };
}

/** Synthesizes the templates to `outDir` (a cdk.out-style cloud assembly) and summarizes them. */
export function synthesize(params: DeployParams, outDir: string): SynthResult {
  const { app } = buildApp(params, outDir);
  const assembly = app.synth();
  const templates = assembly.stacks.map((s) => {
    const resources = Object.values(
      (s.template as { Resources?: Record<string, { Type: string }> }).Resources ?? {},
    );
    const resourceTypes: Record<string, number> = {};
    for (const r of resources) resourceTypes[r.Type] = (resourceTypes[r.Type] ?? 0) + 1;
    return {
      stackName: s.stackName,
      templateFile: s.templateFullPath,
      resourceCount: resources.length,
      resourceTypes,
    };
  });
  return { outDir: assembly.directory, templates };
}
