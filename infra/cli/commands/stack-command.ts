import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { StackError } from '../../local/local-service.js';
import { allOk, type StackStatus, stackDown, stackStatus, stackUp } from '../../local/stack.js';
import { formatTable, printJson, printLine, progress } from '../output.js';

interface StackOptions {
  config?: string;
  json?: boolean;
}

const report = (service: string, message: string) => progress(`[${service}] ${message}`);

function printStatus(status: StackStatus, json: boolean | undefined): void {
  if (json) {
    printJson(status);
    return;
  }
  printLine(
    formatTable(
      ['service', 'ok', 'endpoint', 'pid', 'rss', 'error'],
      Object.entries(status).map(([name, h]) => [
        name,
        h.ok ? 'yes' : 'NO',
        h.endpoint,
        h.pid ?? '-',
        h.rssBytes !== undefined ? `${Math.round(h.rssBytes / 2 ** 20)} MiB` : '-',
        h.error ?? '',
      ]),
    ),
  );
}

/** Runs a stack action; a StackError becomes one stderr line and exit code 1. */
async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (err instanceof StackError) {
      progress(`liveagg stack: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

export function registerStackCommand(program: Command): void {
  const cmd = program
    .command('stack')
    .description(
      'Run the local stack of real services on 127.0.0.1: Kafka, Cassandra, moto (AWS APIs), EC2 metadata mock.',
    );
  cmd
    .command('up')
    .description(
      'install what is missing, start every service (reusing running ones) and wait until each answers',
    )
    .option('-c, --config <file>', 'config file (the stack section sets ports and folders)')
    .option('--json', 'print only the JSON status document on stdout')
    .action((opts: StackOptions) =>
      guarded(async () => {
        const config = await loadConfig(opts.config);
        const t0 = Date.now();
        const result = await stackUp(config.stack, report);
        progress(
          `stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (started: ${result.started.join(', ') || 'none'}; reused: ${result.reused.join(', ') || 'none'})`,
        );
        printStatus(result.status, opts.json);
        if (!allOk(result.status)) process.exitCode = 1;
      }),
    );
  cmd
    .command('status')
    .description('check each service with a real round trip; exits non-zero when one is not ok')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print only the JSON status document on stdout')
    .action((opts: StackOptions) =>
      guarded(async () => {
        const config = await loadConfig(opts.config);
        const status = await stackStatus(config.stack);
        printStatus(status, opts.json);
        if (!allOk(status)) process.exitCode = 1;
      }),
    );
  cmd
    .command('down')
    .description('stop exactly the processes `stack up` started (by their pid files)')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print {"stopped": true} on stdout')
    .action((opts: StackOptions) =>
      guarded(async () => {
        const config = await loadConfig(opts.config);
        await stackDown(config.stack, report);
        if (opts.json) printJson({ stopped: true });
        else progress('stack down: every service this stack started is stopped');
      }),
    );
}
