import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from './local-service.js';
import type { StackConfig } from './stack-config.js';

const PACKAGE_NAME = 'live-aggregators';

/**
 * Finds the project root: the nearest folder upward from `start` holding this project's
 * package.json. Works from the sources (infra/local/) and from the build (dist/infra/local/).
 */
export function findProjectRoot(start: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const parsed = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
        if (parsed.name === PACKAGE_NAME) return dir;
      } catch {
        // Not ours (or unreadable): keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json named ${PACKAGE_NAME} above ${start}`);
    dir = parent;
  }
}

let cachedRoot: string | undefined;

/** The project root (memoised). */
export function projectRoot(): string {
  cachedRoot ??= findProjectRoot();
  return cachedRoot;
}

/** Absolute folders of the stack: downloads (cache) and per-service state (data, logs, pid files). */
export interface StackPaths {
  root: string;
  cacheDir: string;
  stateDir: string;
  /** `<stateDir>/<service>`: the service's data, log and pid file live here. */
  serviceDir(service: ServiceName): string;
  /** `<stateDir>/<service>/<service>.pid`. */
  pidFile(service: ServiceName): string;
  /** `<stateDir>/<service>/<service>.log`: the process's stdout and stderr. */
  logFile(service: ServiceName): string;
}

/** Resolves the config's folders; relative paths resolve against `root` (the project root by default). */
export function stackPaths(
  config: Pick<StackConfig, 'cacheDir' | 'stateDir'>,
  root = projectRoot(),
): StackPaths {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(root, p));
  const cacheDir = abs(config.cacheDir);
  const stateDir = abs(config.stateDir);
  const serviceDir = (s: ServiceName) => join(stateDir, s);
  return {
    root,
    cacheDir,
    stateDir,
    serviceDir,
    pidFile: (s) => join(serviceDir(s), `${s}.pid`),
    logFile: (s) => join(serviceDir(s), `${s}.log`),
  };
}
