/**
 * CDK app entry (cdk.json: `npx tsx app.ts`). Parameters: `-c params=FILE` (YAML/JSON, relative to this folder or
 * absolute); without it, example parameters with placeholder endpoints. `npx cdk deploy -c params=../../deploy.yaml`.
 */
import { App } from 'aws-cdk-lib';
import { EXAMPLE_PARAMS, loadDeployParams, parseDeployParams } from './deploy-params.js';
import { buildApp } from './synth.js';

const file = new App().node.tryGetContext('params') as string | undefined;
const params =
  file === undefined ? parseDeployParams(EXAMPLE_PARAMS, 'example parameters') : await loadDeployParams(file);
buildApp(params).app.synth();
