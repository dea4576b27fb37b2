import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { commandVersion } from './process-runner.js';

/** Major version from `java -version` output (`openjdk version "17.0.15"` → 17, `"1.8.0_392"` → 8). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/**
 * Finds a `java` binary of the wanted major version (17 by default): `$JAVA_HOME`, then `java`
 * on the PATH, then every JDK under /usr/lib/jvm. Returns its path, or undefined when none fits.
 */
export async function findJava(
  major = 17,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  const candidates: string[] = [];
  if (env['JAVA_HOME']) candidates.push(join(env['JAVA_HOME'], 'bin', 'java'));
  candidates.push('java');
  const jvmRoot = '/usr/lib/jvm';
  if (existsSync(jvmRoot)) {
    for (const d of readdirSync(jvmRoot).sort()) candidates.push(join(jvmRoot, d, 'bin', 'java'));
  }
  for (const c of candidates) {
    if (c !== 'java' && !existsSync(c)) continue;
    const out = await commandVersion(c, ['-version']);
    if (out !== undefined && parseJavaMajor(out) === major) return c;
  }
  return undefined;
}
