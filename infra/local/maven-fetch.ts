import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ProgressReporter, type ServiceName, StackError } from './local-service.js';
import { runCommand } from './process-runner.js';

export interface MavenFetchSpec {
  service: ServiceName;
  /** Folder name prefix: jars land in `<cacheDir>/<name>-lib`. */
  name: string;
  /** `groupId:artifactId:version` coordinates. */
  coordinates: string[];
  cacheDir: string;
  progress?: ProgressReporter;
}

/** A minimal pom.xml depending on the given coordinates. */
export function renderPom(name: string, coordinates: string[]): string {
  const deps = coordinates.map((c) => {
    const [g, a, v] = c.split(':');
    if (!g || !a || !v) throw new Error(`bad Maven coordinate ${c}: expected groupId:artifactId:version`);
    return `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  });
  return [
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    `  <groupId>liveagg.local</groupId><artifactId>${name}-deps</artifactId><version>1</version>`,
    '  <dependencies>',
    ...deps,
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n');
}

/**
 * Resolves the coordinates with their runtime dependencies into `<cacheDir>/<name>-lib` once
 * (`mvn dependency:copy-dependencies`); later calls with the same coordinates are no-ops
 * (a marker file records them). Returns the lib folder.
 */
export async function fetchMavenDeps(spec: MavenFetchSpec): Promise<string> {
  const libDir = join(spec.cacheDir, `${spec.name}-lib`);
  const marker = join(libDir, '.liveagg-complete');
  const fingerprint = createHash('sha256').update(spec.coordinates.join('\n')).digest('hex');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === fingerprint) return libDir;

  spec.progress?.(spec.service, `resolving ${spec.coordinates.join(', ')} from Maven Central`);
  const pomDir = join(spec.cacheDir, `${spec.name}-pom`);
  const tmpLib = `${libDir}.tmp`;
  mkdirSync(pomDir, { recursive: true });
  rmSync(tmpLib, { recursive: true, force: true });
  writeFileSync(join(pomDir, 'pom.xml'), renderPom(spec.name, spec.coordinates));
  try {
    await runCommand(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(pomDir, 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${tmpLib}`,
        '-DincludeScope=runtime',
      ],
      { timeoutMs: 900_000 },
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT')
      throw new StackError(
        spec.service,
        'MVN_MISSING',
        'mvn not found',
        'install Maven (apt-get install maven)',
      );
    throw new StackError(
      spec.service,
      'DOWNLOAD_FAILED',
      `Maven could not resolve ${spec.coordinates.join(', ')} (${e.message.split('\n').slice(0, 1).join('')})`,
      `check access to Maven Central (or ~/.m2/settings.xml mirrors), then rerun; Maven said: ${e.message.split('\n').slice(1).join(' | ')}`,
    );
  }
  rmSync(libDir, { recursive: true, force: true });
  renameSync(tmpLib, libDir);
  writeFileSync(marker, `${fingerprint}\n`);
  return libDir;
}
