import { SigwardError } from '../errors.js';

/** The time a review may take: the webhook timeout less a margin for the answer's trip back. */
export interface DeadlinePolicy {
  readonly timeoutSeconds: number;
  readonly budgetMs: number;
}

/**
 * The API server gives up after `timeoutSeconds` and applies the webhook's failurePolicy. To
 * decide ourselves (deny what is unfinished, naming the timeout) the answer must leave before
 * that: the margin is 20% of the timeout, at most one second.
 */
export function deadlinePolicy(timeoutSeconds: number): DeadlinePolicy {
  const timeoutMs = timeoutSeconds * 1000;
  return { timeoutSeconds, budgetMs: timeoutMs - Math.min(1000, timeoutMs * 0.2) };
}

export function timeoutReason(policy: DeadlinePolicy): string {
  return `not finished within ${policy.budgetMs / 1000}s (webhook timeout ${policy.timeoutSeconds}s less a safety margin)`;
}

export type Raced<T> = { readonly finished: true; readonly value: T } | { readonly finished: false };

/**
 * Runs `work` with a signal that aborts when `remainingMs` have passed, and settles by then
 * whatever `work` does: an evaluator that ignores the signal (a registry that hangs) cannot
 * hold the answer past the deadline. A rejection of `work` before the deadline propagates.
 */
export async function raceDeadline<T>(work: (signal: AbortSignal) => Promise<T>, remainingMs: number, policy: DeadlinePolicy): Promise<Raced<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Raced<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new SigwardError('DEADLINE_EXCEEDED', timeoutReason(policy)));
      resolve({ finished: false });
    }, Math.max(0, remainingMs));
    // The open connection keeps the process alive while a review waits; the timer need not.
    timer.unref();
  });
  const running = (async () => work(controller.signal))().then((value): Raced<T> => ({ finished: true, value }));
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}
