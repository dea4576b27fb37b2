import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../../infra/config/config-error.js';
import { EXAMPLE_PARAMS, parseDeployParams } from '../../../infra/deploy/deploy-params.js';
import {
  renderSystemdUnit,
  renderUserData,
  STOP_MARGIN_SECONDS,
  stopTimeoutSeconds,
  tokenFetchCommand,
} from '../../../infra/deploy/user-data.js';
import {
  ADMIN_TOKEN_ENV,
  renderDeploymentConfig,
  validateDeploymentConfig,
} from '../../../infra/deploy/worker-config.js';

const params = parseDeployParams({
  ...EXAMPLE_PARAMS,
  config: { worker: { groupId: 'prod-workers', drainTimeoutMs: 60_000 }, kafka: { brokers: ['ignored:1'] } },
});

describe('renderDeploymentConfig', () => {
  const { yaml, config } = renderDeploymentConfig(params, { bucketName: 'my-checkpoints' });

  it('round-trips: the embedded YAML parses, with the worker parser, to the validated config', () => {
    expect(validateDeploymentConfig(parseYaml(yaml))).toEqual(config);
  });

  it('passes the user config through and lays the deployment endpoints over it', () => {
    expect(config.worker?.groupId).toBe('prod-workers');
    expect(config.worker?.drainTimeoutMs).toBe(60_000);
    expect(config.kafka.brokers).toEqual(EXAMPLE_PARAMS.kafka.brokers);
    expect(config.cassandra.contactPoints).toEqual(EXAMPLE_PARAMS.cassandra.contactPoints);
    expect(config.worker?.checkpoint).toMatchObject({
      store: 's3',
      bucket: 'my-checkpoints',
      prefix: 'checkpoints',
    });
    expect(config.worker?.notices.enabled).toBe(true);
    expect(config.autoscaler.targetUtilization).toBe(params.fleet.targetUtilization);
  });

  it('never writes the admin token into the file', () => {
    expect(yaml).not.toMatch(/token/i);
    expect(config.worker?.admin.host).toBe('0.0.0.0');
  });

  it('rejects a user config the worker would reject, naming the field', () => {
    const bad = parseDeployParams({ ...EXAMPLE_PARAMS, config: { worker: { drainTimeoutMs: -1 } } });
    expect(() => renderDeploymentConfig(bad, { bucketName: 'b-1' })).toThrow(ConfigError);
    try {
      renderDeploymentConfig(bad, { bucketName: 'b-1' });
    } catch (err) {
      expect((err as ConfigError).problems.join('\n')).toContain('worker.drainTimeoutMs');
    }
  });
});

describe('systemd unit and user data', () => {
  it('stops no sooner than the drain timeout plus a margin', () => {
    expect(stopTimeoutSeconds(60_000)).toBe(60 + STOP_MARGIN_SECONDS);
    expect(stopTimeoutSeconds(90_500)).toBeGreaterThan(90.5);
    const unit = renderSystemdUnit('worker', 'liveagg worker --config /etc/liveagg/config.yaml', 60_000);
    expect(unit).toContain(`TimeoutStopSec=${60 + STOP_MARGIN_SECONDS}`);
    expect(unit).toContain('KillSignal=SIGTERM');
    expect(unit).toContain('ExecStart=/usr/bin/env liveagg worker --config /etc/liveagg/config.yaml');
    // The worker's V8 young generation (see infra/worker/worker-node-options.ts); not for the autoscaler.
    expect(unit).toContain('Environment="NODE_OPTIONS=--max-semi-space-size=128"');
    expect(renderSystemdUnit('autoscaler', 'liveagg autoscaler', 60_000)).not.toContain('NODE_OPTIONS');
  });

  it('writes the rendered config verbatim and fetches the token at service start', () => {
    const { yaml } = renderDeploymentConfig(params, { bucketName: 'my-checkpoints' });
    const script = renderUserData({
      role: 'worker',
      params,
      configYaml: yaml,
      command: 'liveagg worker --config /etc/liveagg/config.yaml',
      drainTimeoutMs: 60_000,
    }).join('\n');
    const body = /cat > \/etc\/liveagg\/config\.yaml <<'LIVEAGG_EOF'\n([\s\S]*?)\nLIVEAGG_EOF/.exec(
      script,
    )?.[1];
    expect(`${body}\n`).toBe(yaml);
    expect(script).toContain(tokenFetchCommand(params));
    expect(script).toContain(ADMIN_TOKEN_ENV);
    expect(script).toContain('systemctl enable --now liveagg-worker.service');
  });

  it('reads an SSM SecureString when the token lives there', () => {
    const ssm = parseDeployParams({
      ...EXAMPLE_PARAMS,
      adminToken: { ssmParameterName: '/liveagg/admin-token' },
    });
    expect(tokenFetchCommand(ssm)).toContain(
      "aws ssm get-parameter --region us-east-1 --name '/liveagg/admin-token' --with-decryption",
    );
  });
});
