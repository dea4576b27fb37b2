import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { EXAMPLE_PARAMS, loadDeployParams, parseDeployParams } from '../../deploy/deploy-params.js';
import { printJson, printLine, progress } from '../output.js';

export function registerDeployCommand(program: Command): void {
  const deploy = program
    .command('deploy')
    .description('AWS deployment (CDK): synthesize the CloudFormation templates.');
  deploy
    .command('synth')
    .description(
      'synthesize the stack offline (no AWS credentials needed) and write its CloudFormation template(s)',
    )
    .option('--out <dir>', 'output directory (a cloud assembly, like cdk.out); default: a new temp dir')
    .option(
      '--params <file>',
      'deployment parameters (YAML or JSON); default: example parameters with placeholder endpoints',
    )
    .option('--json', 'print only the JSON document (templates and resource counts) on stdout')
    .action(async (opts: { out?: string; params?: string; json?: boolean }) => {
      const params =
        opts.params === undefined
          ? parseDeployParams(EXAMPLE_PARAMS, 'example parameters')
          : await loadDeployParams(opts.params);
      if (opts.params === undefined)
        progress('no --params given: using example parameters (placeholder endpoints)');
      const outDir = path.resolve(opts.out ?? (await mkdtemp(path.join(tmpdir(), 'liveagg-synth-'))));
      // Loaded on use: aws-cdk-lib is large and no other command needs it.
      const { synthesize } = await import('../../deploy/synth.js');
      const result = synthesize(params, outDir);
      if (opts.json) {
        printJson(result);
        return;
      }
      for (const t of result.templates)
        printLine(`${t.stackName}: ${t.templateFile} (${t.resourceCount} resources)`);
      printLine(`cloud assembly in ${result.outDir} (deploy it with: npx cdk deploy --app ${result.outDir})`);
    });
}
