import type { Broker } from './broker.js';

export interface GeneratorSettings {
  /** Generated receipts per second across all declared queues; 0 stops the generator. */
  ratePerSecond: number;
  /** Share (0..1) of generated receipts enqueued twice, as two SMQ messages. */
  duplicateRatio: number;
}

/**
 * Fills the declared queues at a steady rate, round-robin. One timer for the whole emulator; the
 * tick is short at high rates so the offered load stays smooth rather than arriving in bursts.
 */
export class ReceiptGenerator {
  private timer: NodeJS.Timeout | undefined;
  private lastTickMs = 0;
  private owed = 0;
  private cursor = 0;
  private current: GeneratorSettings;

  constructor(
    private readonly broker: Broker,
    settings: GeneratorSettings,
  ) {
    this.current = validateGenerator(settings);
  }

  get settings(): Readonly<GeneratorSettings> {
    return this.current;
  }

  configure(settings: Partial<GeneratorSettings>): void {
    this.current = validateGenerator({ ...this.current, ...settings });
    this.restart();
  }

  start(): void {
    this.restart();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private restart(): void {
    this.stop();
    if (this.current.ratePerSecond <= 0) return;
    const intervalMs = Math.min(100, Math.max(10, Math.floor(1000 / this.current.ratePerSecond)));
    this.lastTickMs = Date.now();
    this.owed = 0;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    this.owed += ((now - this.lastTickMs) / 1000) * this.current.ratePerSecond;
    this.lastTickMs = now;
    // Cap the catch-up after a stalled loop, so a pause does not turn into a flood.
    this.owed = Math.min(this.owed, this.current.ratePerSecond);
    const declarations = this.broker.declarations;
    if (declarations.length === 0) {
      this.owed = 0;
      return;
    }
    while (this.owed >= 1) {
      this.owed -= 1;
      this.cursor = (this.cursor + 1) % declarations.length;
      const declaration = declarations[this.cursor];
      if (declaration) this.broker.enqueueGenerated(declaration, this.current.duplicateRatio);
    }
  }
}

export function validateGenerator(settings: GeneratorSettings): GeneratorSettings {
  const { ratePerSecond, duplicateRatio } = settings;
  if (typeof ratePerSecond !== 'number' || !(ratePerSecond >= 0 && ratePerSecond <= 1_000_000)) {
    throw new Error('ratePerSecond must be a number from 0 to 1000000');
  }
  if (typeof duplicateRatio !== 'number' || !(duplicateRatio >= 0 && duplicateRatio <= 1)) {
    throw new Error('duplicateRatio must be a number from 0 to 1');
  }
  return { ratePerSecond, duplicateRatio };
}
