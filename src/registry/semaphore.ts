import type { SigwardError } from '../errors.js';

interface HostSlots {
  active: number;
  readonly waiting: (() => void)[];
}

/** At most `max` requests in flight per host, so one slow registry cannot take every socket
 * and a burst of reviews cannot flood a registry into rate-limiting sigward. */
export class HostLimiter {
  private readonly hosts = new Map<string, HostSlots>();

  constructor(private readonly max: number) {}

  /** Waits for a slot; resolves to its release function. Rejects with `aborted()` when the
   * caller's signal fires while waiting. */
  acquire(host: string, signal: AbortSignal | undefined, aborted: () => SigwardError): Promise<() => void> {
    let slots = this.hosts.get(host);
    if (slots === undefined) {
      slots = { active: 0, waiting: [] };
      this.hosts.set(host, slots);
    }
    const release = this.releaser(host, slots);
    if (signal?.aborted) return Promise.reject(aborted());
    if (slots.active < this.max) {
      slots.active++;
      return Promise.resolve(release);
    }
    const queue = slots.waiting;
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = (): void => {
        const at = queue.indexOf(grant);
        if (at >= 0) queue.splice(at, 1);
        reject(aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  }

  private releaser(host: string, slots: HostSlots): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slots.waiting.shift();
      if (next !== undefined) {
        next(); // the slot passes to the next waiter; `active` is unchanged
        return;
      }
      slots.active--;
      if (slots.active === 0) this.hosts.delete(host);
    };
  }
}
