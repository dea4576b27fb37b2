import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { registerAutoscalerCommand } from './commands/autoscaler-command.js';
import { registerBenchCommand } from './commands/bench-command.js';
import { registerCheckpointCommand } from './commands/checkpoint-command.js';
import { registerCostReportCommand } from './commands/cost-report-command.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerDeployCommand } from './commands/deploy-command.js';
import { registerExampleCommand } from './commands/example-command.js';
import { registerForecastCommand } from './commands/forecast-command.js';
import { registerSchemaCommand } from './commands/schema-command.js';
import { registerSimulateCommand } from './commands/simulate-command.js';
import { registerStackCommand } from './commands/stack-command.js';
import { registerStatusCommand } from './commands/status-command.js';
import { registerWorkerCommand } from './commands/worker-command.js';

/** Builds the `liveagg` program. Each command module registers itself; this file only lists them. */
export function buildProgram(): Command {
  const program = new Command('liveagg')
    .description(
      'Live Aggregators: stateful Kafka aggregation on spot capacity, with a forecasting autoscaler.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerAutoscalerCommand(program);
  registerBenchCommand(program);
  registerCheckpointCommand(program);
  registerCostReportCommand(program);
  registerSimulateCommand(program);
  registerSchemaCommand(program);
  registerWorkerCommand(program);
  registerStatusCommand(program);
  registerStackCommand(program);
  registerForecastCommand(program);
  registerDeployCommand(program);
  registerExampleCommand(program);
  registerDemoCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`liveagg: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
