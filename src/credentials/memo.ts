/**
 * Answers of credential programs, remembered: one run at a time per key (a burst of reviews
 * runs a plugin once), an answer kept for the lifetime its source gives it and never past it,
 * and a failure remembered for a backoff that doubles up to a ceiling, so a broken plugin is not
 * run for every review. Each caller waits at most until its own signal; the run itself goes on
 * under its own timeout, so the next caller gets its answer.
 */
import { SigwardError } from '../errors.js';

const MAX_ENTRIES = 1024;
const aborted = (): SigwardError => new SigwardError('DEADLINE_EXCEEDED', 'the review ended while waiting for a credential program');

export interface MemoAnswer<V> {
  readonly value: V;
  /** How long the answer may be reused, in milliseconds; 0 keeps it for no one else. */
  readonly ttlMs: number;
}

export interface BackoffSettings {
  readonly firstMs: number;
  readonly maxMs: number;
}

type Entry<V> =
  | { readonly state: 'ok'; readonly value: V; readonly until: number }
  | { readonly state: 'failed'; readonly error: Error; readonly until: number; readonly backoffMs: number };

export class CredentialMemo<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly running = new Map<string, Promise<MemoAnswer<V>>>();

  constructor(
    private readonly backoff: BackoffSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string, run: () => Promise<MemoAnswer<V>>, signal: AbortSignal | undefined): Promise<V> {
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry !== undefined && entry.until > now) {
      if (entry.state === 'ok') return entry.value;
      throw entry.error;
    }
    let flight = this.running.get(key);
    if (flight === undefined) {
      flight = this.start(key, run, entry);
      this.running.set(key, flight);
    }
    return (await raceSignal(flight, signal, aborted)).value;
  }

  private start(key: string, run: () => Promise<MemoAnswer<V>>, previous: Entry<V> | undefined): Promise<MemoAnswer<V>> {
    const flight = run().then(
      (answer) => {
        if (answer.ttlMs > 0) this.store(key, { state: 'ok', value: answer.value, until: this.now() + answer.ttlMs });
        else this.entries.delete(key);
        return answer;
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        const backoffMs = previous?.state === 'failed' ? Math.min(previous.backoffMs * 2, this.backoff.maxMs) : this.backoff.firstMs;
        this.store(key, { state: 'failed', error, until: this.now() + backoffMs, backoffMs });
        throw error;
      },
    ).finally(() => { this.running.delete(key); });
    // Callers that gave up waiting leave the flight unobserved; its failure is stored, not lost.
    flight.catch(() => undefined);
    return flight;
  }

  private store(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }
}

/** The promise, or a rejection with `aborted()` as soon as the caller's signal fires. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, aborted: () => Error): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(aborted()); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort); });
  });
}
