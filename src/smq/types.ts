/** One message as BatchReceiveMessage returns it. */
export interface SmqMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly bodyMd5: string;
  readonly enqueueTimeMs: number;
  readonly firstDequeueTimeMs: number;
  readonly nextVisibleTimeMs: number;
  readonly dequeueCount: number;
  readonly priority: number;
}

export interface DeleteFailure {
  readonly receiptHandle: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

/**
 * The narrow SMQ surface the consumer needs. The production adapter wraps `@alicloud/mns`;
 * failures are thrown as SmqError with a class (empty, throttled, auth, …).
 */
export interface SmqQueueClient {
  /** Resolves [] when the long poll ended with no message (MessageNotExist). */
  receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<SmqMessage[]>;
  /** Returns the entries that failed; [] when every handle was deleted. */
  deleteBatch(receiptHandles: readonly string[]): Promise<DeleteFailure[]>;
  /** Returns the new receipt handle and its NextVisibleTime. */
  changeVisibility(
    receiptHandle: string,
    visibilityTimeoutSeconds: number,
  ): Promise<{ receiptHandle: string; nextVisibleTimeMs: number }>;
}

/** What GetQueueAttributes says about a queue's messages. */
export interface QueueAttributes {
  /** Visible, waiting to be received. */
  readonly activeMessages: number;
  /** Received and not yet deleted or visible again. */
  readonly inactiveMessages: number;
  readonly delayMessages: number;
}

/** Temporary credentials minted by QueryTokenForMnsQueue. */
export interface SmqCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
  /** Epoch ms; undefined for static AccessKey credentials. */
  readonly expireAtMs?: number;
}
