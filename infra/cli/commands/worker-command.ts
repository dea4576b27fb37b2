import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../log/logger.js';
import { printJson } from '../output.js';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'Run an aggregator worker: consume, aggregate, write results, checkpoint; drain on SIGTERM, POST /drain or a spot notice.',
    )
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--json', 'print the drain report as JSON on stdout when the worker exits')
    .action(async (opts: { config: string; json?: boolean }) => {
      const cfg = await loadConfig(opts.config);
      const log = createLogger('worker');
      // Loaded on use: the worker pulls in the whole aggregation engine, which other commands do not need.
      const { runWorker } = await import('../../worker/run-worker.js');
      const report = await runWorker(cfg, log);
      if (opts.json) printJson(report);
      // Every adapter is closed by now; exit even if a client library left a timer behind.
      process.exit(report.complete ? 0 : 3);
    });
}
