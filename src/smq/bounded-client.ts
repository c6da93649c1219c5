import PQueue from 'p-queue';
import type { DeleteFailure, SmqQueueClient } from './types.js';

/**
 * ChangeMessageVisibility and BatchDeleteMessage calls one consumer loop may have in flight at once. Leases
 * received together come due together: without a bound, a loop holding thousands of messages would send
 * thousands of extensions in one tick, and a burst of completions dozens of deletes, all against the
 * account's SMQ request rate.
 */
export const SMQ_SIDE_CALLS = 16;

/**
 * The loop's client with its extensions and deletes run through one p-queue of `concurrency`; the long
 * poll goes straight through (the loop bounds its receives itself).
 */
export function boundSideCalls(client: SmqQueueClient, concurrency = SMQ_SIDE_CALLS): SmqQueueClient {
  const calls = new PQueue({ concurrency });
  return {
    receive: (max, waitSeconds, signal) => client.receive(max, waitSeconds, signal),
    deleteBatch: (handles): Promise<DeleteFailure[]> => calls.add(() => client.deleteBatch(handles)),
    changeVisibility: (handle, seconds) => calls.add(() => client.changeVisibility(handle, seconds)),
  };
}
