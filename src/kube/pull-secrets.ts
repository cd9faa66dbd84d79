/**
 * Registry credentials for one review, as the kubelet would pull the pod's images: the pod's
 * `imagePullSecrets`, then its service account's, read from the pod's namespace, then the
 * global `--pull-secret` from sigward's own namespace. With `--no-pull-secrets-across-namespaces`
 * only the global one is read (and sigward needs no right to read other namespaces' Secrets).
 *
 * Answers are cached for 30 s per namespace, service account and list of names, so a burst of
 * pods from one ReplicaSet reads each Secret once. Credentials that came from the pod's own
 * Secrets carry a scope (a short hash of them): the evaluator keeps what it learns with them
 * apart from what it learns with the shared credentials (see ReviewCredentials).
 */
import type { ReviewRequest } from '../admission/types.js';
import { TtlCache } from '../cache/ttl-cache.js';
import type { Logger } from '../log.js';
import type { ReviewCredentials, ReviewCredentialSource } from '../verify/evaluator.js';
import { apiStatus, describeKubeError, type KubeClients } from './client.js';
import { firstOf, podPullSecrets, pullSecretCredential, scopeOf, type PullCredential } from '../credentials/pull-secrets.js';

const TTL_MS = 30_000;
/** An answer missing a Secret for a reason other than "not found" (an outage) is retried sooner. */
const PARTIAL_TTL_MS = 2_000;
/** A review waits this long for the API server, then goes on without the pod's credentials. */
const LOOKUP_TIMEOUT_MS = 3_000;
const NONE: ReviewCredentials = { provider: undefined, scope: undefined };

export interface PullSecretsOptions {
  readonly clients: KubeClients;
  readonly ownNamespace: string;
  readonly globalSecret: string | undefined;
  readonly acrossNamespaces: boolean;
  readonly logger: Logger;
}

interface Answer {
  readonly credentials: ReviewCredentials;
  readonly complete: boolean;
}

export class PullSecrets implements ReviewCredentialSource {
  private readonly answers = new TtlCache<string, Answer>({
    max: 2000,
    ttlMs: TTL_MS,
    ttlOf: (answer) => (answer.complete ? TTL_MS : PARTIAL_TTL_MS),
  });

  constructor(private readonly options: PullSecretsOptions) {}

  async forReview(request: ReviewRequest, signal: AbortSignal): Promise<ReviewCredentials> {
    const key = this.keyOf(request);
    const answer = this.answers.getOrLoad(key.text, () => this.load(key.namespace, key.names, key.serviceAccount)).catch((err: unknown) => {
      this.options.logger.error('pull secret lookup failed', { error: describeKubeError(err) });
      return undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => { resolve(undefined); }, LOOKUP_TIMEOUT_MS);
      signal.addEventListener('abort', () => { resolve(undefined); }, { once: true });
    });
    try {
      const settled = await Promise.race([answer, gaveUp]);
      if (settled === undefined) this.options.logger.warn('pull secrets not read in time; going on without them', { namespace: request.namespace });
      return settled?.credentials ?? NONE;
    } finally {
      clearTimeout(timer);
    }
  }

  peek(request: ReviewRequest): ReviewCredentials | undefined {
    return this.answers.peek(this.keyOf(request).text)?.credentials;
  }

  private keyOf(request: ReviewRequest): { text: string; namespace: string | undefined; names: readonly string[]; serviceAccount: string | undefined } {
    const pod = this.options.acrossNamespaces && request.namespace !== undefined
      ? podPullSecrets(request.kind.kind, request.object)
      : undefined;
    if (pod === undefined) return { text: 'global', namespace: undefined, names: [], serviceAccount: undefined };
    const namespace = request.namespace;
    return { text: `${namespace ?? ''}|${pod.serviceAccount}|${pod.names.join(',')}`, namespace, names: pod.names, serviceAccount: pod.serviceAccount };
  }

  private async load(namespace: string | undefined, names: readonly string[], serviceAccount: string | undefined): Promise<Answer> {
    let complete = true;
    const note = (ok: boolean): void => { complete &&= ok; };
    const own: PullCredential[] = [];
    if (namespace !== undefined) {
      const fromAccount = serviceAccount === undefined ? [] : await this.accountSecrets(namespace, serviceAccount, note);
      for (const name of [...new Set([...names, ...fromAccount])]) {
        const found = await this.secret(namespace, name, note);
        if (found !== undefined) own.push(found);
      }
    }
    const global = this.options.globalSecret === undefined ? undefined : await this.secret(this.options.ownNamespace, this.options.globalSecret, note);
    const all = global === undefined ? own : [...own, global];
    const provider = firstOf(all.map((credential) => credential.provider));
    const scope = own.length === 0 ? undefined : scopeOf(all.map((credential) => credential.fingerprint));
    return { credentials: { provider, scope }, complete };
  }

  private async accountSecrets(namespace: string, name: string, note: (ok: boolean) => void): Promise<string[]> {
    try {
      const account = await this.options.clients.core.readNamespacedServiceAccount({ name, namespace });
      return (account.imagePullSecrets ?? []).flatMap((ref) => (ref.name === undefined ? [] : [ref.name]));
    } catch (err) {
      this.unreadable(`ServiceAccount ${namespace}/${name}`, err, note);
      return [];
    }
  }

  private async secret(namespace: string, name: string, note: (ok: boolean) => void): Promise<PullCredential | undefined> {
    const source = `Secret ${namespace}/${name}`;
    try {
      const secret = await this.options.clients.core.readNamespacedSecret({ name, namespace });
      return pullSecretCredential({ ...(secret.type === undefined ? {} : { type: secret.type }), ...(secret.data === undefined ? {} : { data: secret.data }) }, source);
    } catch (err) {
      this.unreadable(source, err, note);
      return undefined;
    }
  }

  /** A missing pull secret is skipped, as the kubelet skips it; anything else is worth a warning. */
  private unreadable(what: string, err: unknown, note: (ok: boolean) => void): void {
    const status = apiStatus(err);
    note(status === 404);
    const fields = { what, error: describeKubeError(err) };
    if (status === 404) this.options.logger.debug('pull secret source not found', fields);
    else this.options.logger.warn('cannot read pull secret source', fields);
  }
}
