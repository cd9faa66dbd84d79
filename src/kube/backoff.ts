/**
 * Capped exponential backoff for restarting a watch: 1 s, 2 s, 4 s … 30 s, with up to 20 %
 * jitter so the replicas of sigward do not reconnect in lockstep after an API server restart.
 * Reset after a watch has listed or connected again.
 */
export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  /** A number in [0, 1); Math.random by default. */
  readonly random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = options.maxMs ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt; each call doubles the next one, up to the cap. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const jittered = base * (1 - 0.2 * this.random());
    return Math.max(this.initialMs * 0.8, Math.round(jittered));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
