import { workerNodeOptions } from '../worker/worker-node-options.js';
import type { DeployParams } from './deploy-params.js';
import { ADMIN_TOKEN_ENV, CONFIG_PATH } from './worker-config.js';

/** Seconds systemd waits after SIGTERM beyond the worker's drain timeout before it kills the process. */
export const STOP_MARGIN_SECONDS = 30;
const TOKEN_SCRIPT = '/usr/local/bin/liveagg-admin-token';
const TOKEN_ENV_FILE = '/run/liveagg/admin-token.env';

/** Which liveagg process a unit runs. */
export type ServiceRole = 'worker' | 'autoscaler';

/** TimeoutStopSec for a drain timeout: the drain must finish (and exit) before systemd resorts to SIGKILL. */
export function stopTimeoutSeconds(drainTimeoutMs: number): number {
  return Math.ceil(drainTimeoutMs / 1000) + STOP_MARGIN_SECONDS;
}

/**
 * The systemd unit. SIGTERM starts the drain (stop fetching, checkpoint, commit, leave the group); TimeoutStopSec is
 * longer than the drain timeout so a shutdown, an ASG termination or `systemctl stop` never cuts a drain short.
 */
export function renderSystemdUnit(role: ServiceRole, command: string, drainTimeoutMs: number): string {
  return [
    '[Unit]',
    `Description=Live Aggregators ${role}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    'User=liveagg',
    'Group=liveagg',
    // Runs as root (+) to read the secret with the instance role, writes an env file only liveagg can read.
    `ExecStartPre=+${TOKEN_SCRIPT}`,
    `EnvironmentFile=${TOKEN_ENV_FILE}`,
    ...(role === 'worker' ? [`Environment="NODE_OPTIONS=${workerNodeOptions(undefined)}"`] : []),
    `ExecStart=/usr/bin/env ${command}`,
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${stopTimeoutSeconds(drainTimeoutMs)}`,
    'Restart=on-failure',
    'RestartSec=5',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The shell command that prints the admin token (secret or SecureString parameter). */
export function tokenFetchCommand(params: DeployParams): string {
  const t = params.adminToken;
  return 'secretsManagerSecretName' in t
    ? `aws secretsmanager get-secret-value --region ${params.region} --secret-id '${t.secretsManagerSecretName}' --query SecretString --output text`
    : `aws ssm get-parameter --region ${params.region} --name '${t.ssmParameterName}' --with-decryption --query Parameter.Value --output text`;
}

/** A heredoc whose terminator cannot occur in the body. */
function heredoc(path: string, body: string, mode: string): string[] {
  const eof = 'LIVEAGG_EOF';
  if (body.split('\n').includes(eof)) throw new Error(`file ${path} contains the heredoc terminator ${eof}`);
  return [
    `cat > ${path} <<'${eof}'`,
    body.endsWith('\n') ? body.slice(0, -1) : body,
    eof,
    `chmod ${mode} ${path}`,
  ];
}

export interface UserDataInput {
  role: ServiceRole;
  params: DeployParams;
  configYaml: string;
  /** The process's command line. */
  command: string;
  drainTimeoutMs: number;
  /** Extra files (path → content) written next to the config, e.g. the autoscaler's deployment facts. */
  extraFiles?: Readonly<Record<string, string>>;
}

/** The user-data script lines (bash): install node and liveagg, write config and unit, enable and start the service. */
export function renderUserData(input: UserDataInput): string[] {
  const { role, params } = input;
  const unit = `liveagg-${role}`;
  const tokenScript = [
    '#!/bin/bash',
    'set -euo pipefail',
    'install -d -m 0750 -o liveagg -g liveagg /run/liveagg',
    `token="$(${tokenFetchCommand(params)})"`,
    `umask 077; printf '${ADMIN_TOKEN_ENV}=%s\\n' "$token" > ${TOKEN_ENV_FILE}`,
    `chown liveagg:liveagg ${TOKEN_ENV_FILE}`,
    '',
  ].join('\n');
  return [
    'set -euo pipefail',
    ...params.install.nodeSetup,
    `npm install -g '${params.install.packageSpec}'`,
    'id liveagg >/dev/null 2>&1 || useradd --system --home-dir /var/lib/liveagg --create-home --shell /sbin/nologin liveagg',
    'install -d -m 0755 /etc/liveagg',
    ...heredoc(CONFIG_PATH, input.configYaml, '0644'),
    ...Object.entries(input.extraFiles ?? {}).flatMap(([path, body]) => heredoc(path, body, '0644')),
    ...heredoc(TOKEN_SCRIPT, tokenScript, '0755'),
    ...heredoc(
      `/etc/systemd/system/${unit}.service`,
      renderSystemdUnit(role, input.command, input.drainTimeoutMs),
      '0644',
    ),
    'systemctl daemon-reload',
    `systemctl enable --now ${unit}.service`,
  ];
}
