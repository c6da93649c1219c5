/** Faults the emulator can inject, set at start or at run time. */
export interface FaultSettings {
  /** Added to every SMQ and token answer (a long poll's wait is shortened so it still ends in time). */
  latencyMs: number;
  /** A uniformly random extra 0..latencyJitterMs on top of latencyMs. */
  latencyJitterMs: number;
  /** Share (0..1) of requests answered 500 InternalError, without performing the operation. */
  serverErrorRatio: number;
  /** Share (0..1) of requests answered 429 TooManyRequests, without performing the operation. */
  throttleRatio: number;
  /** Share (0..1) of requests whose connection is destroyed halfway through the answer (after the operation ran). */
  dropConnectionRatio: number;
  /** Issued STS tokens stop working this many seconds before the ExpireTime they advertise. */
  tokenEarlyExpirySeconds: number;
  /** Operation names the faults apply to (e.g. BatchReceiveMessage, QueryTokenForMnsQueue); empty means all. */
  actions: string[];
}

export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  latencyJitterMs: 0,
  serverErrorRatio: 0,
  throttleRatio: 0,
  dropConnectionRatio: 0,
  tokenEarlyExpirySeconds: 0,
  actions: [],
});

export type FaultOutcome = 'none' | 'throttle' | 'server-error';

export interface FaultCounters {
  delayed: number;
  throttled: number;
  serverErrors: number;
  dropped: number;
}

const RATIOS = ['serverErrorRatio', 'throttleRatio', 'dropConnectionRatio'] as const;
const DURATIONS = ['latencyMs', 'latencyJitterMs', 'tokenEarlyExpirySeconds'] as const;

/** Validates a (partial) fault object from the control API or options; throws a readable Error. */
export function parseFaults(input: unknown, base: Readonly<FaultSettings> = NO_FAULTS): FaultSettings {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new Error('faults must be a JSON object');
  }
  const out: FaultSettings = { ...base, actions: [...base.actions] };
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if ((RATIOS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1))
        throw new Error(`${key} must be a number from 0 to 1`);
      out[key as (typeof RATIOS)[number]] = value;
    } else if ((DURATIONS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 3_600_000)) {
        throw new Error(`${key} must be a non-negative number`);
      }
      out[key as (typeof DURATIONS)[number]] = value;
    } else if (key === 'actions') {
      if (!Array.isArray(value) || !value.every(v => typeof v === 'string')) {
        throw new Error('actions must be an array of operation names');
      }
      out.actions = [...(value as string[])];
    } else {
      throw new Error(`unknown fault "${key}"`);
    }
  }
  return out;
}

export class FaultInjector {
  private current: FaultSettings;
  readonly counters: FaultCounters = { delayed: 0, throttled: 0, serverErrors: 0, dropped: 0 };

  constructor(initial: Readonly<FaultSettings> = NO_FAULTS) {
    this.current = { ...initial, actions: [...initial.actions] };
  }

  get settings(): Readonly<FaultSettings> {
    return this.current;
  }

  set(settings: FaultSettings): void {
    this.current = settings;
  }

  /** True when no fault can fire; lets the hot path skip the rest. */
  get idle(): boolean {
    const f = this.current;
    return (
      f.latencyMs === 0 &&
      f.latencyJitterMs === 0 &&
      f.serverErrorRatio === 0 &&
      f.throttleRatio === 0 &&
      f.dropConnectionRatio === 0
    );
  }

  private applies(action: string): boolean {
    return this.current.actions.length === 0 || this.current.actions.includes(action);
  }

  latencyFor(action: string): number {
    const f = this.current;
    if (!this.applies(action) || (f.latencyMs === 0 && f.latencyJitterMs === 0)) return 0;
    this.counters.delayed += 1;
    return f.latencyMs + Math.random() * f.latencyJitterMs;
  }

  /** Decides whether this request is refused outright. */
  outcomeFor(action: string): FaultOutcome {
    if (!this.applies(action)) return 'none';
    if (this.current.throttleRatio > 0 && Math.random() < this.current.throttleRatio) {
      this.counters.throttled += 1;
      return 'throttle';
    }
    if (this.current.serverErrorRatio > 0 && Math.random() < this.current.serverErrorRatio) {
      this.counters.serverErrors += 1;
      return 'server-error';
    }
    return 'none';
  }

  /** Decides whether this answer's connection is cut halfway through. */
  dropFor(action: string): boolean {
    if (!this.applies(action) || this.current.dropConnectionRatio === 0) return false;
    if (Math.random() >= this.current.dropConnectionRatio) return false;
    this.counters.dropped += 1;
    return true;
  }

  get tokenEarlyExpiryMs(): number {
    return this.current.tokenEarlyExpirySeconds * 1000;
  }
}
