/** A spot interruption notice or a rebalance recommendation about this worker's instance. */
export interface InstanceNotice {
  kind: 'interruption' | 'rebalance';
  /** For interruptions: terminate, stop or hibernate. */
  action?: string;
  /** When the instance goes away (interruption) or when the recommendation was made. */
  timeMs: number;
}

/** Where this worker learns about its own instance's fate (instance metadata in infra/aws). */
export interface NoticeSource {
  /** The current notice, or undefined when none is posted. Throws only on transport failures. */
  poll(): Promise<InstanceNotice | undefined>;
}
