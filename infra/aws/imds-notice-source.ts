import type { InstanceNotice, NoticeSource } from '../../aggregator/worker/notice-source.js';

const DEFAULT_ENDPOINT = 'http://169.254.169.254';
const TOKEN_TTL_SEC = 21_600;

/**
 * Polls the instance metadata service for `spot/instance-action` and
 * `events/recommendations/rebalance` (both 404 until something is posted), IMDSv2 only:
 * a session token from `PUT /latest/api/token`, reused until shortly before it expires.
 * (A plain fetch client: the SDK's MetadataService mangles paths against a custom endpoint.)
 * An interruption outranks a rebalance recommendation.
 */
export class ImdsNoticeSource implements NoticeSource {
  private readonly endpoint: string;
  private token: { value: string; expiresMs: number } | undefined;

  constructor(
    endpoint: string | undefined,
    private readonly timeoutMs = 1000,
  ) {
    this.endpoint = (endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  }

  async poll(): Promise<InstanceNotice | undefined> {
    const action = await this.get('/latest/meta-data/spot/instance-action');
    if (action) {
      const doc = JSON.parse(action) as { action?: string; time?: string };
      return {
        kind: 'interruption',
        action: doc.action ?? 'terminate',
        timeMs: Date.parse(doc.time ?? '') || Date.now() + 120_000,
      };
    }
    const rebalance = await this.get('/latest/meta-data/events/recommendations/rebalance');
    if (rebalance) {
      const doc = JSON.parse(rebalance) as { noticeTime?: string };
      return { kind: 'rebalance', timeMs: Date.parse(doc.noticeTime ?? '') || Date.now() };
    }
    return undefined;
  }

  /** Instance id, for naming this worker. */
  async instanceId(): Promise<string | undefined> {
    return this.get('/latest/meta-data/instance-id');
  }

  private async get(path: string): Promise<string | undefined> {
    const res = await fetch(`${this.endpoint}${path}`, {
      headers: { 'x-aws-ec2-metadata-token': await this.sessionToken() },
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: 'follow',
    });
    if (res.status === 404) return undefined;
    if (res.status === 401) this.token = undefined;
    if (!res.ok) throw new Error(`instance metadata ${path}: HTTP ${res.status}`);
    return res.text();
  }

  private async sessionToken(): Promise<string> {
    if (this.token && this.token.expiresMs > Date.now() + 60_000) return this.token.value;
    const res = await fetch(`${this.endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SEC) },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`instance metadata token: HTTP ${res.status}`);
    this.token = { value: await res.text(), expiresMs: Date.now() + TOKEN_TTL_SEC * 1000 };
    return this.token.value;
  }
}
