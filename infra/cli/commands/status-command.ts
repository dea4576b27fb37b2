import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../config/load-config.js';
import { formatTable, printJson, printLine } from '../output.js';

/** What a worker's `GET /status` answers (the fields this command shows; others pass through). */
const statusSchema = z
  .object({
    id: z.string(),
    draining: z.boolean(),
    pausedForMemory: z.boolean(),
    memory: z.object({ usedBytes: z.number(), limitBytes: z.number(), liveSeries: z.number() }).passthrough(),
    partitions: z.array(
      z
        .object({
          topic: z.string(),
          partition: z.number(),
          nextOffset: z.string().nullable(),
          lag: z.number().nullable(),
          checkpointAgeSeconds: z.number(),
          silentSeconds: z.number().optional(),
          idleAdvancing: z.boolean().optional(),
          pipelines: z.array(
            z
              .object({
                name: z.string(),
                stateBytes: z.number(),
                liveSeries: z.number(),
                watermark: z.string().nullable().optional(),
                nextDue: z.string().nullable().optional(),
                idleAfterMs: z.number().nullable().optional(),
              })
              .passthrough(),
          ),
        })
        .passthrough(),
    ),
  })
  .passthrough();
type WorkerStatusBody = z.infer<typeof statusSchema>;

type Answer = { url: string; status: WorkerStatusBody } | { url: string; error: string };

async function fetchStatus(url: string, token: string | undefined, timeoutMs: number): Promise<Answer> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/status`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) return { url, error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    const parsed = statusSchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      return {
        url,
        error: `not a worker status: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      };
    return { url, status: parsed.data };
  } catch (err) {
    return { url, error: (err as Error).message };
  }
}

const seconds = (s: number | undefined): string =>
  s === undefined
    ? '-'
    : s < 120
      ? `${s.toFixed(0)}s`
      : s < 7200
        ? `${(s / 60).toFixed(0)}m`
        : `${(s / 3600).toFixed(1)}h`;
const mib = (n: number): string => `${(n / 1024 ** 2).toFixed(1)} MiB`;
/** An ISO time without the date when it is today's (UTC), to keep the table narrow. */
const time = (iso: string | null | undefined): string => {
  if (!iso) return '-';
  return iso.slice(0, 10) === new Date().toISOString().slice(0, 10) ? iso.slice(11, 19) : iso.slice(0, 19);
};

/** The rows of one worker's table: a row per (partition, pipeline). */
export function statusRows(s: WorkerStatusBody): (string | number)[][] {
  return s.partitions.flatMap((p) =>
    p.pipelines.map((pl) => [
      `${p.topic}[${p.partition}]`,
      pl.name,
      p.lag ?? '-',
      p.idleAdvancing ? `${seconds(p.silentSeconds)} (advancing)` : seconds(p.silentSeconds),
      time(pl.watermark),
      time(pl.nextDue),
      pl.idleAfterMs ? seconds(pl.idleAfterMs / 1000) : 'off',
      seconds(p.checkpointAgeSeconds),
      mib(pl.stateBytes),
      pl.liveSeries,
    ]),
  );
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "What running workers are doing (their admin API's /status): per partition and pipeline the lag, silence, event-time watermark, next window close or timer, checkpoint age and state.",
    )
    .option('--admin <url...>', 'worker admin API base URLs (default: worker.admin of --config)')
    .option('-c, --config <file>', 'config file (worker.admin: address and token)')
    .option('--token <token>', 'admin bearer token (default: worker.admin.token, or LIVEAGG_ADMIN_TOKEN)')
    .option('--timeout-ms <n>', 'per-worker request timeout', '5000')
    .option('--json', 'print only the JSON document on stdout')
    .action(
      async (opts: {
        admin?: string[];
        config?: string;
        token?: string;
        timeoutMs: string;
        json?: boolean;
      }) => {
        const timeoutMs = Number(opts.timeoutMs);
        if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
          throw new Error(`--timeout-ms: ${JSON.stringify(opts.timeoutMs)} is not a positive integer`);
        const admin = opts.config ? (await loadConfig(opts.config)).worker?.admin : undefined;
        const urls =
          opts.admin ??
          (admin
            ? [`http://${admin.host.includes(':') ? `[${admin.host}]` : admin.host}:${admin.port}`]
            : []);
        if (urls.length === 0)
          throw new Error('no worker to ask: pass --admin <url> or a --config with a worker section');
        const token = opts.token ?? process.env['LIVEAGG_ADMIN_TOKEN'] ?? admin?.token;
        const answers = await Promise.all(urls.map((u) => fetchStatus(u, token, timeoutMs)));
        if (answers.some((a) => 'error' in a)) process.exitCode = 1;
        if (opts.json) return printJson({ workers: answers });
        for (const a of answers) {
          if ('error' in a) {
            printLine(`${a.url}: unreachable or refused — ${a.error}`);
            continue;
          }
          const s = a.status;
          const state = s.draining ? 'draining' : s.pausedForMemory ? 'paused (memory)' : 'running';
          printLine(
            `${s.id} at ${a.url}: ${state}, ${s.partitions.length} partitions, memory ${mib(s.memory.usedBytes)} of ${mib(s.memory.limitBytes)}, ${s.memory.liveSeries} live series`,
          );
          printLine(
            formatTable(
              [
                'partition',
                'pipeline',
                'lag',
                'silent',
                'watermark',
                'next due',
                'idle after',
                'ckpt age',
                'state',
                'series',
              ],
              statusRows(s),
            ),
          );
          printLine();
        }
      },
    );
}
