/**
 * A client-node informer that keeps itself alive. The informer relists by itself after a 410
 * Gone (its resourceVersion expired) and reconnects after a watch ends normally, but after an
 * `error` event (the API server refused the connection, a list failed, a 403) it stops for
 * good: here it is started again, with capped exponential backoff (1 s … 30 s). Until it has
 * listed once it is not synced; afterwards its cache keeps the last known objects while it
 * reconnects, so a restarting API server leaves the last known state in force.
 */
import { ListWatch, Watch, makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { apiStatus, describeKubeError } from './client.js';

export interface WatchedOptions<T extends KubernetesObject> {
  readonly config: KubeConfig;
  /** The collection's URL path, as for a watch: `/api/v1/namespaces`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  /** `metadata.name=NAME`: watch one object (its `list` must use the same selector). */
  readonly fieldSelector?: string;
  /** What is watched, for logs: `ClusterImagePolicies`. */
  readonly what: string;
  /** What to do when the API server does not serve the resource at all (HTTP 404): a CRD to install. */
  readonly whenMissing?: string;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
  readonly onAdd?: (object: T) => void;
  readonly onUpdate?: (object: T) => void;
  readonly onDelete?: (object: T) => void;
  /** Called once, after the first list has been applied (its add events already given). */
  readonly onSynced?: () => void;
}

export class Watched<T extends KubernetesObject> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private readonly backoff: Backoff;
  private listed = false;
  private failedThisRun = false;
  private synced = false;
  private stopped = true;
  private restart: NodeJS.Timeout | undefined;
  private settle: (() => void) | undefined;
  private readonly settled: Promise<void>;
  /** Why the last attempt failed, until a later one succeeds. */
  lastError: string | undefined;

  constructor(private readonly options: WatchedOptions<T>) {
    this.backoff = new Backoff(options.backoff);
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      this.listed = true;
      return result;
    };
    this.informer = options.fieldSelector === undefined
      ? makeInformer(options.config, options.path, list)
      : new ListWatch(options.path, new Watch(options.config), list, false, undefined, options.fieldSelector);
    this.settled = new Promise((resolve) => { this.settle = resolve; });
    this.informer.on('error', (err: unknown) => { this.failed(err); });
    for (const [verb, handler] of [['add', options.onAdd], ['update', options.onUpdate], ['delete', options.onDelete]] as const) {
      if (handler !== undefined) this.informer.on(verb, (object: T) => { this.guard(verb, () => { handler(object); }); });
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restart);
    this.restart = undefined;
    await this.informer.stop();
  }

  /** True once the collection has been listed; stays true while the watch reconnects. */
  isSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the collection has been listed, or once an attempt has failed before that. */
  whenSettled(): Promise<void> {
    return this.settled;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  private async run(): Promise<void> {
    this.listed = false;
    this.failedThisRun = false;
    try {
      await this.informer.start();
    } catch (err) {
      this.failed(err);
      return;
    }
    if (this.stopped) return;
    if (this.listed && !this.synced) {
      this.synced = true;
      this.options.logger.info('watch synced', { what: this.options.what, objects: this.informer.list().length });
      this.guard('synced', () => { this.options.onSynced?.(); });
    }
    if (this.listed || !this.failedThisRun) this.settle?.();
    if (!this.failedThisRun) {
      this.backoff.reset();
      this.lastError = undefined;
    }
  }

  private failed(err: unknown): void {
    this.failedThisRun = true;
    if (this.stopped) return;
    this.lastError = describeKubeError(err);
    this.settle?.();
    if (this.restart !== undefined) return;
    const delayMs = this.backoff.next();
    if (apiStatus(err) === 404 && this.options.whenMissing !== undefined) {
      this.options.logger.error(`${this.options.what} are not served by the API server: ${this.options.whenMissing}`, { retryInMs: delayMs });
    } else {
      this.options.logger.warn('watch failed; restarting it', { what: this.options.what, error: this.lastError, retryInMs: delayMs });
    }
    this.restart = setTimeout(() => {
      this.restart = undefined;
      if (!this.stopped) void this.run();
    }, delayMs);
  }

  /** A handler that throws must not break the informer's own bookkeeping. */
  private guard(verb: string, handler: () => void): void {
    try {
      handler();
    } catch (err) {
      this.options.logger.error('watch handler failed', { what: this.options.what, verb, error: err });
    }
  }
}
