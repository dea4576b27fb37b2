import { CassandraService } from './cassandra-service.js';
import { ImdsService } from './imds-service.js';
import { KafkaService } from './kafka-service.js';
import type { LocalService, ProgressReporter, ServiceHealth, ServiceName } from './local-service.js';
import { MotoService } from './moto-service.js';
import type { StackConfig } from './stack-config.js';

export type StackStatus = Record<ServiceName, ServiceHealth>;

/** The stack's services, in start order. */
export function createServices(config: StackConfig): LocalService[] {
  return [
    new KafkaService(config),
    new CassandraService(config),
    new MotoService(config),
    new ImdsService(config),
  ];
}

export interface StackUpResult {
  /** Services this call started (a later `down` or cleanup stops these). */
  started: ServiceName[];
  /** Services that were already running and healthy, reused as they are. */
  reused: ServiceName[];
  status: StackStatus;
}

/**
 * Brings every service up: prerequisites of all first (so a missing tool fails before any
 * download), then installs (the two Maven fetches one after the other, the rest alongside),
 * then starts in parallel, each waiting for a real round trip. Already running services are
 * reused. On any failure, stops what this call started and rethrows the first error.
 */
export async function stackUp(
  config: StackConfig,
  progress: ProgressReporter,
  services: LocalService[] = createServices(config),
): Promise<StackUpResult> {
  await Promise.all(services.map((s) => s.checkPrerequisites()));

  const before = await Promise.all(services.map((s) => s.health()));
  // A healthy service on the configured port that another checkout (or the user) started is used as it is:
  // nothing to install or start, and `stack down` here leaves it alone (it stops only what this checkout started).
  const elsewhere = new Set(
    services.filter((_, i) => before[i]?.ok === true && before[i]?.pid === undefined).map((s) => s.name),
  );
  const wasRunning = new Set(
    services.filter((s, i) => before[i]?.pid !== undefined || elsewhere.has(s.name)).map((s) => s.name),
  );

  await Promise.all(services.filter((s) => !wasRunning.has(s.name)).map((s) => s.preflight?.()));

  const mavenNames = new Set<ServiceName>(['kafka', 'cassandra']);
  const maven = services.filter((s) => mavenNames.has(s.name) && !wasRunning.has(s.name));
  const others = services.filter((s) => !mavenNames.has(s.name) && !wasRunning.has(s.name));
  await Promise.all([
    (async () => {
      for (const s of maven) await s.install(progress);
    })(),
    ...others.map((s) => s.install(progress)),
  ]);

  const t0 = Date.now();
  const results = await Promise.allSettled(
    services.map(async (s) => {
      if (elsewhere.has(s.name)) {
        progress(s.name, 'answering on its port, started elsewhere: reused as it is');
        return;
      }
      await s.start(progress);
      const verb = wasRunning.has(s.name) ? 'reused' : 'ready';
      progress(s.name, `${verb} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    const ours = services.filter((s) => !wasRunning.has(s.name));
    progress(
      ours[0]?.name ?? 'kafka',
      `start failed; stopping what this call started: ${ours.map((s) => s.name).join(', ')}`,
    );
    await Promise.allSettled(ours.map((s) => s.stop(progress)));
    throw failure.reason;
  }
  return {
    started: services.filter((s) => !wasRunning.has(s.name)).map((s) => s.name),
    reused: services.filter((s) => wasRunning.has(s.name)).map((s) => s.name),
    status: await stackStatus(config, services),
  };
}

/** Health of every service (a real round trip each), in parallel; never throws. */
export async function stackStatus(
  config: StackConfig,
  services: LocalService[] = createServices(config),
): Promise<StackStatus> {
  const healths = await Promise.all(services.map((s) => s.health()));
  const out = {} as StackStatus;
  services.forEach((s, i) => {
    out[s.name] = healths[i] ?? { ok: false, endpoint: '', error: 'no answer' };
  });
  return out;
}

/** True when every service answered. */
export function allOk(status: StackStatus): boolean {
  return Object.values(status).every((h) => h.ok);
}

/**
 * Stops the services this stack started (by their pid files); `only` limits it to some of
 * them (the test setup stops only what it started).
 */
export async function stackDown(
  config: StackConfig,
  progress: ProgressReporter,
  only?: ServiceName[],
  services: LocalService[] = createServices(config),
): Promise<void> {
  const chosen = only ? services.filter((s) => only.includes(s.name)) : services;
  await Promise.all(chosen.map((s) => s.stop(progress)));
}
