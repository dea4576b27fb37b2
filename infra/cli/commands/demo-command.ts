import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../../../forecasting/series/duration.js';
import { createLogger } from '../../log/logger.js';
import { printLine, progress } from '../output.js';

function parseDurationOption(v: string): number {
  try {
    const ms = parseDuration(v);
    if (ms > 0) return ms;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError(`${v} is not a duration like 90s, 5m or 1h`);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the whole system on this machine: local stack, a replayed day of real traffic, the autoscaler on local worker processes, a spot interruption, a live dashboard. Ctrl-C drains every worker.',
    )
    .option('-c, --config <file>', 'demo config (default examples/demo/demo.yaml)')
    .option(
      '--duration <d>',
      'stop by itself after this long (e.g. 4m) and print a summary',
      parseDurationOption,
    )
    .option(
      '--day <d>',
      'wall time one replayed day takes (default 80 % of the duration, or 4m)',
      parseDurationOption,
    )
    .option('--peak <rps>', 'peak input rate, records/s', (v) => Number(v))
    .option('--ui <port>', 'dashboard port (0 = any free port)', (v) => Number.parseInt(v, 10), 19080)
    .option('--json', 'the last line of stdout is the summary as one JSON object')
    .action(
      async (opts: {
        config?: string;
        duration?: number;
        day?: number;
        peak?: number;
        ui: number;
        json?: boolean;
      }) => {
        const abort = new AbortController();
        let interrupts = 0;
        const onSignal = () => {
          interrupts++;
          if (interrupts > 1) process.exit(130);
          progress('demo: Ctrl-C: draining every worker and stopping (Ctrl-C again to abandon)…');
          abort.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        const { runDemo } = await import('../../demo/run-demo.js');
        const summary = await runDemo({
          ...(opts.config ? { configFile: opts.config } : {}),
          ...(opts.duration !== undefined ? { durationMs: opts.duration } : {}),
          ...(opts.day !== undefined ? { dayMs: opts.day } : {}),
          ...(opts.peak !== undefined ? { peakRecordsPerSecond: opts.peak } : {}),
          uiPort: opts.ui,
          signal: abort.signal,
          log: createLogger('demo', 'warn'),
          progress,
        });
        if (opts.json) printLine(JSON.stringify(summary));
        else {
          printLine('demo summary');
          for (const [k, v] of Object.entries(summary)) printLine(`  ${k.padEnd(22)} ${v}`);
          printLine(
            summary.lost === 0 && summary.duplicated === 0
              ? 'no data lost, none counted twice'
              : 'DATA MISMATCH',
          );
        }
        process.exit(summary.lost === 0 && summary.duplicated === 0 ? 0 : 1);
      },
    );
}
