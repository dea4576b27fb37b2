import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  InterruptionKind,
  InterruptionNotice,
  InterruptionSource,
} from '../../autoscaler/ports/interruption-source.js';
import { callAws } from './aws-errors.js';

/** The slice of the SQS client the source uses. */
export type SqsApi = Pick<SQSClient, 'send'>;

export const SPOT_INTERRUPTION_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';
export const REBALANCE_DETAIL_TYPE = 'EC2 Instance Rebalance Recommendation';
/** A spot interruption takes effect two minutes after the warning. */
export const INTERRUPTION_NOTICE_MS = 120_000;

/** The EventBridge pattern of the rule that routes both warnings to the queue. */
export const INTERRUPTION_EVENT_PATTERN = {
  source: ['aws.ec2'],
  'detail-type': [SPOT_INTERRUPTION_DETAIL_TYPE, REBALANCE_DETAIL_TYPE],
};

export interface SqsInterruptionSourceOptions {
  queueUrl: string;
  /** Long-poll wait of the first receive of a poll, seconds (0–20); later receives of the same poll do not wait. */
  waitTimeSeconds?: number;
  /** Receives per poll at most (10 messages each), so one poll never runs long. */
  maxReceivesPerPoll?: number;
  /** Seconds a received message stays invisible before SQS redelivers it (if not acknowledged). */
  visibilityTimeoutSeconds?: number;
  /** Warnings about messages that are not interruption events (they are deleted so they do not come back). */
  onIgnored?: (reason: string, body: string) => void;
}

interface EventBridgeEvent {
  'detail-type'?: unknown;
  time?: unknown;
  detail?: { 'instance-id'?: unknown; 'instance-action'?: unknown };
}

/**
 * Parses one EventBridge event (as an SQS message body) into a notice: `detail.instance-id`, the detail type, and
 * `time` (the warning's issue time; an interruption's deadline is two minutes later). Undefined for other events.
 */
export function parseInterruptionEvent(body: string): InterruptionNotice | undefined {
  let event: EventBridgeEvent;
  try {
    event = JSON.parse(body) as EventBridgeEvent;
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const detailType = event['detail-type'];
  const kind: InterruptionKind | undefined =
    detailType === SPOT_INTERRUPTION_DETAIL_TYPE
      ? 'interruption'
      : detailType === REBALANCE_DETAIL_TYPE
        ? 'rebalance'
        : undefined;
  const instanceId = event.detail?.['instance-id'];
  const issuedAtMs = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
  if (!kind || typeof instanceId !== 'string' || !Number.isFinite(issuedAtMs)) return undefined;
  const notice: InterruptionNotice = { instanceId, kind, issuedAtMs };
  // instance-action is terminate | stop | hibernate; all of them end the worker two minutes after the warning.
  if (kind === 'interruption') notice.deadlineMs = issuedAtMs + INTERRUPTION_NOTICE_MS;
  return notice;
}

function noticeKey(n: InterruptionNotice): string {
  return `${n.instanceId}|${n.kind}|${n.issuedAtMs}`;
}

/**
 * InterruptionSource over the SQS queue an EventBridge rule ({@link INTERRUPTION_EVENT_PATTERN}) feeds. `poll` long-polls
 * briefly and hands notices over, de-duplicated within the poll; `acknowledge` deletes their messages. An unacknowledged
 * notice comes back after the visibility timeout (at-least-once), so a restarted autoscaler still sees it.
 */
export class SqsInterruptionSource implements InterruptionSource {
  /** Receipt handles of handed-over notices, until acknowledged. */
  private readonly pending = new Map<string, string[]>();
  private readonly opts: Required<Omit<SqsInterruptionSourceOptions, 'onIgnored'>> &
    Pick<SqsInterruptionSourceOptions, 'onIgnored'>;

  constructor(
    private readonly sqs: SqsApi,
    options: SqsInterruptionSourceOptions,
  ) {
    this.opts = { waitTimeSeconds: 1, maxReceivesPerPoll: 5, visibilityTimeoutSeconds: 60, ...options };
  }

  async poll(): Promise<InterruptionNotice[]> {
    const notices = new Map<string, InterruptionNotice>();
    const ignored: string[] = [];
    for (let i = 0; i < this.opts.maxReceivesPerPoll; i++) {
      const messages = await this.receive(i === 0 ? this.opts.waitTimeSeconds : 0);
      for (const message of messages) {
        if (!message.ReceiptHandle) continue;
        const notice = parseInterruptionEvent(message.Body ?? '');
        if (!notice) {
          this.opts.onIgnored?.('not an EC2 interruption or rebalance event', message.Body ?? '');
          ignored.push(message.ReceiptHandle);
          continue;
        }
        const key = noticeKey(notice);
        notices.set(key, notice);
        const handles = this.pending.get(key) ?? [];
        handles.push(message.ReceiptHandle);
        this.pending.set(key, handles);
      }
      if (messages.length < 10) break;
    }
    await this.delete(ignored);
    return [...notices.values()];
  }

  async acknowledge(notices: readonly InterruptionNotice[]): Promise<void> {
    const handles: string[] = [];
    for (const notice of notices) {
      const key = noticeKey(notice);
      handles.push(...(this.pending.get(key) ?? []));
      this.pending.delete(key);
    }
    await this.delete(handles);
  }

  private async receive(waitTimeSeconds: number): Promise<Message[]> {
    const out = await callAws('ReceiveMessage', () =>
      this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: this.opts.visibilityTimeoutSeconds,
        }),
      ),
    );
    return out.Messages ?? [];
  }

  private async delete(receiptHandles: readonly string[]): Promise<void> {
    // DeleteMessageBatch takes at most 10 entries.
    for (let i = 0; i < receiptHandles.length; i += 10) {
      const batch = receiptHandles.slice(i, i + 10);
      await callAws('DeleteMessageBatch', () =>
        this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.opts.queueUrl,
            Entries: batch.map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle })),
          }),
        ),
      );
    }
  }
}
