import type { ConsumerConfig } from '../config/types.js';
import type { ConsumerHealth } from '../contracts/telemetry.js';
import type { ConsumerProbe } from '../observability/health.js';
import type { SmqConsumer } from '../smq/consumer.js';
import { consumerId } from './plans.js';

/** One running consumer loop, with what readiness reads and how to stop its metrics. */
export interface ConsumerRecord {
  readonly id: string;
  readonly config: ConsumerConfig;
  readonly loop: SmqConsumer;
  readonly probe: ConsumerProbe;
  /** Detaches the loop's metrics listeners and in-flight gauge. */
  readonly detach: () => void;
}

/** The daemon's running consumer loops, one record each, by `consumerId`. */
export class ConsumerSet {
  readonly #records = new Map<string, ConsumerRecord>();

  /** Starts tracking a loop (not starting it): returns its record. */
  add(config: ConsumerConfig, loop: SmqConsumer, detach: () => void): ConsumerRecord {
    const record: ConsumerRecord = {
      id: consumerId(config),
      config,
      loop,
      detach,
      probe: {
        waitSeconds: config.waitSeconds,
        maxInFlight: config.maxInFlight,
        startedAtMs: Date.now(),
        health: () => loop.health(),
      },
    };
    this.#records.set(record.id, record);
    return record;
  }

  /** Stops tracking a loop at once (readiness no longer sees it); the caller stops it. */
  take(id: string): ConsumerRecord | undefined {
    const record = this.#records.get(id);
    this.#records.delete(id);
    return record;
  }

  ids(): string[] {
    return [...this.#records.keys()];
  }

  probes(): ConsumerProbe[] {
    return [...this.#records.values()].map(r => r.probe);
  }

  health(): ConsumerHealth[] {
    return [...this.#records.values()].map(r => r.loop.health());
  }

  /** Messages in flight over every loop. */
  get inFlight(): number {
    let n = 0;
    for (const r of this.#records.values()) n += r.loop.inFlight;
    return n;
  }

  /** Stops every loop, each draining for up to `drainTimeoutMs`. */
  async stopAll(drainTimeoutMs: number): Promise<void> {
    await Promise.all([...this.#records.values()].map(r => r.loop.stop({ drainTimeoutMs })));
  }

  /** Detaches every loop's metrics (the last step of a shutdown). */
  detachAll(): void {
    for (const r of this.#records.values()) r.detach();
  }
}
