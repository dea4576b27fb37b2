import { destination, type Logger, pino, stdTimeFunctions } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * Structured JSON logs on stderr, so stdout stays free for `--json` documents.
 * Secrets are redacted by path wherever they appear in a log object.
 */
export function createLogger(name: string, level: LogLevel = defaultLevel()): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'adminToken', '*.adminToken'],
        censor: '[redacted]',
      },
    },
    destination({ fd: 2, sync: true }),
  );
}

function defaultLevel(): LogLevel {
  const fromEnv = process.env['LIVEAGG_LOG_LEVEL'];
  const levels: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  return levels.find((l) => l === fromEnv) ?? 'info';
}
