#!/usr/bin/env node
import { main } from '../dist/infra/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`liveagg: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
