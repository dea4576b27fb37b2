import type { Command } from 'commander';
import { aggregateBench } from '../../../test/bench/aggregate-bench.js';
import { checkpointBench } from '../../../test/bench/checkpoint-bench.js';
import { coreBench } from '../../../test/bench/core-bench.js';
import { decodeBench } from '../../../test/bench/decode-bench.js';
import { emitBench } from '../../../test/bench/emit-bench.js';
import { forecastBench } from '../../../test/bench/forecast-bench.js';
import { multilevelBench } from '../../../test/bench/multilevel-bench.js';
import { rollupBench } from '../../../test/bench/rollup-bench.js';
import { simulateBench } from '../../../test/bench/simulate-bench.js';
import { stateMachineBench } from '../../../test/bench/state-machine-bench.js';
import { setUpWorkerProcess } from '../../worker/worker-process-setup.js';
import { printJson, progress } from '../output.js';
import { benchArgs, hasWorkerFlags, runWithWorkerFlags } from '../worker-flags-child.js';

/**
 * One benchmark: `liveagg bench <name> [options] --json`. Benchmarks print a JSON document
 * with figures as ratios against a baseline measured in the same run (the machine is shared
 * and noisy); progress goes to stderr.
 */
export interface BenchDefinition {
  name: string;
  description: string;
  /** Adds the benchmark's own options to its subcommand. */
  options?: (cmd: Command) => Command;
  /**
   * Measures code that runs inside a worker: it runs under the worker's V8 flags (WORKER_V8_FLAGS,
   * e.g. its young-generation size), re-executed in a child process when this one lacks them, with
   * the flags a worker sets on itself (WORKER_RUNTIME_V8_FLAGS) and its WebAssembly key lookup.
   */
  workerFlags?: boolean;
  /** Runs the benchmark and returns the JSON document. */
  run: (opts: Record<string, unknown>, log: (line: string) => void) => Promise<unknown>;
}

/** Benchmarks register here: one import and one entry per benchmark module. */
const benches: BenchDefinition[] = [
  aggregateBench,
  checkpointBench,
  forecastBench,
  decodeBench,
  stateMachineBench,
  coreBench,
  emitBench,
  simulateBench,
  multilevelBench,
  rollupBench,
];

export function registerBenchCommand(program: Command, extra: BenchDefinition[] = []): void {
  const bench = program
    .command('bench')
    .description('Run a benchmark and print its figures (JSON with --json).');
  for (const def of [...benches, ...extra]) {
    let sub = bench
      .command(def.name)
      .description(def.description)
      .option('--json', 'print only the JSON document on stdout');
    if (def.options) sub = def.options(sub);
    sub.action(async (opts: Record<string, unknown>) => {
      let result: unknown;
      if (def.workerFlags && !hasWorkerFlags()) {
        progress(`bench ${def.name}: running under the worker's V8 flags, in a child process`);
        result = await runWithWorkerFlags(benchArgs(def.name, opts));
      } else {
        // Worker code is measured as a worker runs it: with the flags it sets on itself and its
        // WebAssembly key lookup too.
        if (def.workerFlags) await setUpWorkerProcess();
        result = await def.run(opts, progress);
      }
      if (opts['json']) printJson(result);
      else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    });
  }
}
