import { MetadataService } from '@aws-sdk/ec2-metadata-service';
import type { InstanceNotice, NoticeSource } from '../../aggregator/worker/notice-source.js';

/**
 * Polls the instance metadata service (IMDSv2 tokens) for `spot/instance-action` and
 * `events/recommendations/rebalance`. Both answer 404 until something is posted.
 * An interruption outranks a rebalance recommendation.
 */
export class ImdsNoticeSource implements NoticeSource {
  private readonly imds: MetadataService;
  constructor(endpoint?: string, timeoutMs = 1000) {
    this.imds = new MetadataService({
      ...(endpoint ? { endpoint } : {}),
      httpOptions: { timeout: timeoutMs },
      retries: 0,
      ec2MetadataV1Disabled: true,
    });
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
    try {
      return await this.imds.request(path, {});
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw err;
    }
  }
}
