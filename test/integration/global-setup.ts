import { allOk, createServices, stackDown, stackStatus, stackUp } from '../../infra/local/stack.js';
import { stackConfigSchema } from '../../infra/local/stack-config.js';

/**
 * Vitest global setup of the integration project: reuses a healthy local stack, otherwise
 * brings it up (installing what is missing), and at the end stops only the services it
 * started itself. `LA_TEST_KEEP_STACK=1` keeps them running.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const config = stackConfigSchema.parse({});
  const report = (service: string, message: string) =>
    process.stderr.write(`[stack ${service}] ${message}\n`);
  const status = await stackStatus(config);
  if (allOk(status)) {
    // A running stack (perhaps another checkout's) is reused, but some tests start their own
    // Kafka brokers and metadata mocks from this checkout's cache: make sure those are installed.
    const own = createServices(config).filter((svc) => svc.name === 'kafka' || svc.name === 'imds');
    for (const svc of own) {
      await svc.checkPrerequisites();
      await svc.install(report);
    }
    return async () => {};
  }
  const notOk = Object.entries(status)
    .filter(([, h]) => !h.ok)
    .map(([n]) => n);
  report('setup', `not answering: ${notOk.join(', ')}; running stack up`);
  const { started } = await stackUp(config, report);
  return async () => {
    if (process.env['LA_TEST_KEEP_STACK'] === '1' || started.length === 0) return;
    await stackDown(config, report, started);
  };
}
