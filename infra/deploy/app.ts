/**
 * CDK app entry (cdk.json: `npx tsx app.ts`). Parameters: `-c params=FILE` (YAML/JSON, relative to this folder or
 * absolute); without it, example parameters with placeholder endpoints. `npx cdk deploy -c params=../../deploy.yaml`.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../config/config-error.js';
import { EXAMPLE_PARAMS, loadDeployParams, parseDeployParams } from './deploy-params.js';
import { buildApp } from './synth.js';

const file = new App().node.tryGetContext('params') as string | undefined;
try {
  const params =
    file === undefined
      ? parseDeployParams(EXAMPLE_PARAMS, 'example parameters')
      : await loadDeployParams(file);
  buildApp(params).app.synth();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`liveagg deploy: ${err.message}\n`);
  process.exitCode = 2;
}
