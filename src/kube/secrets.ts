/**
 * Policy keys held in Secrets (`key.secretRef`, and any other `secretRef` a policy names). Each
 * referenced Secret is watched on its own (a list and watch selected by `metadata.name`), so
 * sigward needs no right to list every Secret of a namespace, and a rotated key is seen within
 * a moment: `onChange` tells the policy source, which compiles the policies that use it again.
 * Values are read synchronously from the watch cache, as the policy compiler's KeyResolver must.
 */
import type { V1Secret } from '@kubernetes/client-node';
import { SigwardError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SecretKeyRef } from '../policy/index.js';
import type { KubeClients } from './client.js';
import { Watched } from './watched.js';

/** A Secret is at most 1 MiB (the API server's limit); an entry larger than this is refused. */
const MAX_ENTRY_BYTES = 1024 * 1024;
/** How long compiling a policy waits for a newly referenced Secret's first list. */
const SETTLE_TIMEOUT_MS = 10_000;

export interface SecretKeysOptions {
  readonly clients: KubeClients;
  readonly logger: Logger;
}

export class SecretKeys {
  private readonly watches = new Map<string, Watched<V1Secret>>();
  private listener: ((secret: string) => void) | undefined;

  constructor(private readonly options: SecretKeysOptions) {}

  /** `namespace/name` of the Secret a reference points into. */
  static secretOf(ref: SecretKeyRef): string {
    return `${ref.namespace}/${ref.name}`;
  }

  /** Called with `namespace/name` whenever a watched Secret is added, changed or deleted. */
  onChange(listener: (secret: string) => void): void {
    this.listener = listener;
  }

  /**
   * The text of `data[key]`, undefined when the Secret or the key does not exist. Throws when
   * the Secret cannot be watched (forbidden, API server unreachable before the first list), so
   * the policy's status says why instead of "does not exist".
   */
  read(ref: SecretKeyRef): string | undefined {
    const watched = this.watches.get(SecretKeys.secretOf(ref));
    if (watched === undefined || !watched.isSynced()) {
      const why = watched?.lastError ?? 'not read yet';
      throw new SigwardError('FILE_UNREADABLE', `cannot be watched (${why})`);
    }
    const encoded = watched.get(ref.name, ref.namespace)?.data?.[ref.key];
    if (encoded === undefined) return undefined;
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length > MAX_ENTRY_BYTES) throw new SigwardError('FILE_UNREADABLE', `key ${ref.key} is over ${MAX_ENTRY_BYTES} bytes`);
    return bytes.toString('utf8');
  }

  /** The resourceVersion of a watched Secret (`-` when absent): compiled policies remember it. */
  version(secret: string): string {
    const [namespace = '', name = ''] = secret.split('/');
    return this.watches.get(secret)?.get(name, namespace)?.metadata?.resourceVersion ?? '-';
  }

  /** True when every Secret is watched and has been listed (or has failed to be). */
  known(secrets: Iterable<string>): boolean {
    for (const secret of secrets) if (!this.watches.has(secret)) return false;
    return true;
  }

  /** Starts watching these Secrets and waits (10 s at most) until each has been listed once. */
  async ensure(secrets: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const secret of secrets) waits.push(this.watch(secret).whenSettled());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, SETTLE_TIMEOUT_MS); });
    await Promise.race([Promise.all(waits), timeout]);
    clearTimeout(timer);
  }

  /** Stops watching every Secret not in `used` (no policy names it any more). */
  async retain(used: ReadonlySet<string>): Promise<void> {
    const unused = [...this.watches.keys()].filter((secret) => !used.has(secret));
    for (const secret of unused) {
      const watched = this.watches.get(secret);
      this.watches.delete(secret);
      await watched?.stop();
    }
  }

  async stop(): Promise<void> {
    await this.retain(new Set());
  }

  private watch(secret: string): Watched<V1Secret> {
    const existing = this.watches.get(secret);
    if (existing !== undefined) return existing;
    const [namespace = '', name = ''] = secret.split('/');
    const fieldSelector = `metadata.name=${name}`;
    const changed = (): void => { this.listener?.(secret); };
    const watched = new Watched<V1Secret>({
      config: this.options.clients.config,
      path: `/api/v1/namespaces/${namespace}/secrets`,
      list: () => this.options.clients.core.listNamespacedSecret({ namespace, fieldSelector }),
      fieldSelector,
      what: `Secret ${secret}`,
      logger: this.options.logger,
      onAdd: changed,
      onUpdate: changed,
      onDelete: changed,
    });
    this.watches.set(secret, watched);
    watched.start();
    return watched;
  }
}
