import { SigwardError } from '../errors.js';

/** Memoizes an async load by key; the server passes caches, the CLI passes nothing. */
export interface Memo<V> {
  getOrLoad(key: string, load: () => Promise<V>): Promise<V>;
}

/**
 * A load that several callers may share (a cache coalesces concurrent misses of one key). The
 * load runs under its own signal, bounded by `budgetMs`, never under the caller who happened to
 * start it: if that caller's review ends, the others waiting on the same load go on. Each caller
 * waits only as long as its own signal allows and is answered DEADLINE_EXCEEDED when it aborts;
 * the load itself carries on to its budget, and its result is cached for whoever asks next.
 * Without a memo nothing is shared and the load runs under the caller's signal.
 */
export function sharedLoad<V>(
  memo: Memo<V> | undefined,
  key: string,
  load: (signal: AbortSignal) => Promise<V>,
  caller: AbortSignal | undefined,
  budgetMs: number,
): Promise<V> {
  if (caller?.aborted === true) return Promise.reject(ended(caller));
  // Nothing shares an unmemoized load: it runs under the caller's own signal.
  if (memo === undefined) return load(caller ?? AbortSignal.timeout(budgetMs));
  const shared = memo.getOrLoad(key, () => load(AbortSignal.timeout(budgetMs)));
  return caller === undefined ? shared : untilAborted(shared, caller);
}

/** `promise`, or DEADLINE_EXCEEDED as soon as `signal` aborts, whichever comes first. */
function untilAborted<V>(promise: Promise<V>, signal: AbortSignal): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    const onAbort = (): void => { reject(ended(signal)); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function ended(signal: AbortSignal): SigwardError {
  const reason: unknown = signal.reason;
  if (reason instanceof SigwardError && reason.code === 'DEADLINE_EXCEEDED') return reason;
  return new SigwardError('DEADLINE_EXCEEDED', 'the review ended before this lookup finished');
}
