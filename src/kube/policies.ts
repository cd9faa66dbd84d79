/**
 * The policies in force in a cluster: ClusterImagePolicies and ImagePolicies, watched and
 * compiled as they change (plus any `--policy-file` policies, which always apply too).
 *
 * - Not ready until both kinds have been listed once and compiled: before that, an empty set
 *   would admit everything `--no-match` allows.
 * - An object that cannot be compiled is skipped (the others keep working) and its status says
 *   Ready=False, reason InvalidPolicy, with every problem by field path.
 * - Fail-safe: when an edit of a policy that compiled before cannot be compiled, the last good
 *   version of that object stays in force. An invalid edit, a deleted key Secret or an
 *   unreadable key never silently removes enforcement; deleting the policy object does.
 * - A key Secret that changes compiles the policies that read it again (SecretKeys.onChange).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CompiledPolicy, PolicyKind } from '../policy/index.js';
import type { PolicySource } from '../verify/evaluator.js';
import type { KubeClients } from './client.js';
import { describeKubeError } from './client.js';
import { POLICY_RESOURCES } from './constants.js';
import type { NamespaceLabels } from './namespaces.js';
import { compileObject } from './policy-compile.js';
import { policyWhere, type PolicyObjectMeta } from './policy-doc.js';
import { readyCondition, statusSays, writeReady, type Outcome } from './policy-status.js';
import type { SecretKeys } from './secrets.js';
import { Watched } from './watched.js';

type PolicyObject = KubernetesObject & { readonly status?: unknown };

interface Entry {
  readonly meta: PolicyObjectMeta;
  readonly uid: string;
  object: PolicyObject;
  good: { readonly policy: CompiledPolicy; readonly generation: number } | undefined;
  outcome: Outcome | undefined;
  secrets: ReadonlySet<string>;
  /** uid, generation and the versions of the Secrets read when last compiled. */
  signature: string | undefined;
}

export interface KubePolicySourceOptions {
  readonly clients: KubeClients;
  readonly secrets: SecretKeys;
  readonly namespaces?: NamespaceLabels;
  /** Default namespace of a ClusterImagePolicy's `secretRef`: sigward's own. */
  readonly ownNamespace: string;
  /** Policies from `--policy-file`, which apply alongside the cluster's. */
  readonly filePolicies?: readonly CompiledPolicy[];
  readonly logger: Logger;
}

export class KubePolicySource implements PolicySource {
  private readonly entries = new Map<string, Entry>();
  private readonly watches: Watched<PolicyObject>[];
  private readonly statusWrites = new Map<string, Promise<void>>();
  private snapshot: readonly CompiledPolicy[];
  private queue: Promise<void> = Promise.resolve();
  private synced = false;

  constructor(private readonly options: KubePolicySourceOptions) {
    this.snapshot = Object.freeze([...(options.filePolicies ?? [])]);
    const { group, version, cluster, namespaced } = POLICY_RESOURCES;
    const { custom } = options.clients;
    this.watches = [
      this.watch(cluster.kind, `/apis/${group}/${version}/${cluster.plural}`, () => custom.listClusterCustomObject({ group, version, plural: cluster.plural })),
      this.watch(namespaced.kind, `/apis/${group}/${version}/${namespaced.plural}`, () =>
        custom.listCustomObjectForAllNamespaces({ group, version, resourcePlural: namespaced.plural })),
    ];
    options.secrets.onChange((secret) => { this.secretChanged(secret); });
  }

  start(): void {
    for (const watched of this.watches) watched.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.watches.map((watched) => watched.stop()));
    await this.queue;
    await Promise.allSettled(this.statusWrites.values());
  }

  policies(): readonly CompiledPolicy[] {
    return this.snapshot;
  }

  ready(): boolean {
    return this.synced;
  }

  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.options.namespaces?.labels(namespace);
  }

  /** Resolves after every change seen so far has been compiled (for tests and start-up logs). */
  async settled(): Promise<void> {
    await this.queue;
  }

  private watch(kind: PolicyKind, path: string, list: () => Promise<unknown>): Watched<PolicyObject> {
    return new Watched<PolicyObject>({
      config: this.options.clients.config,
      path,
      list: list as () => Promise<{ items: PolicyObject[] }>,
      what: `${kind} objects`,
      whenMissing: `the CRD ${kind === 'ClusterImagePolicy' ? 'clusterimagepolicies' : 'imagepolicies'}.sigward.dev is not installed; apply it with kubectl apply --server-side -f charts/sigward/crds/`,
      logger: this.options.logger,
      onAdd: (object) => { this.enqueue(() => this.upsert(kind, object)); },
      onUpdate: (object) => { this.enqueue(() => this.upsert(kind, object)); },
      onDelete: (object) => { this.enqueue(() => this.remove(kind, object)); },
      // Runs after the compiles of the first list, which were queued before it.
      onSynced: () => { this.enqueue(() => this.checkSynced()); },
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.options.logger.error('policy update failed', { error: describeError(err) });
    });
  }

  private checkSynced(): Promise<void> {
    if (!this.synced && this.watches.every((watched) => watched.isSynced())) {
      this.synced = true;
      this.options.logger.info('cluster policies synced', { policies: this.snapshot.length });
    }
    return Promise.resolve();
  }

  private async upsert(kind: PolicyKind, object: PolicyObject): Promise<void> {
    const meta: PolicyObjectMeta = { kind, name: object.metadata?.name ?? '', namespace: kind === 'ImagePolicy' ? object.metadata?.namespace : undefined };
    const key = keyOf(meta);
    const uid = object.metadata?.uid ?? '';
    const previous = this.entries.get(key);
    const entry: Entry = previous?.uid === uid
      ? previous
      : { meta, uid, object, good: undefined, outcome: undefined, secrets: new Set(), signature: undefined };
    entry.object = object;
    this.entries.set(key, entry);
    if (entry.signature === undefined || entry.signature !== this.signatureOf(entry, entry.secrets)) await this.compile(entry);
    this.publish();
    this.writeStatus(key, entry);
    await this.options.secrets.retain(this.usedSecrets());
  }

  private async compile(entry: Entry): Promise<void> {
    const where = policyWhere(entry.meta);
    const { secrets, ownNamespace } = this.options;
    const compiled = await compileObject(entry.object, entry.meta, { secrets, ownNamespace, lastGoodGeneration: entry.good?.generation });
    // Taken right after the compile's last synchronous read: a Secret changed since compiles again.
    entry.secrets = compiled.secrets;
    entry.signature = this.signatureOf(entry, compiled.secrets);
    entry.outcome = compiled.outcome;
    if (compiled.policy !== undefined) {
      entry.good = { policy: compiled.policy, generation: generationOf(entry.object) };
      this.options.logger.info('policy compiled', { policy: where, identity: compiled.policy.identity });
    } else if (!compiled.outcome.ok) {
      this.options.logger.warn('policy is invalid', { policy: where, problems: compiled.outcome.problems, inForce: entry.good?.generation ?? null });
    }
  }

  private remove(kind: PolicyKind, object: PolicyObject): Promise<void> {
    const meta = { kind, name: object.metadata?.name ?? '', namespace: kind === 'ImagePolicy' ? object.metadata?.namespace : undefined };
    if (this.entries.delete(keyOf(meta))) {
      this.options.logger.info('policy deleted', { policy: policyWhere(meta) });
      this.publish();
    }
    return this.options.secrets.retain(this.usedSecrets());
  }

  private secretChanged(secret: string): void {
    for (const [key, entry] of this.entries) {
      if (!entry.secrets.has(secret)) continue;
      // The object as it is when the task runs: an update queued before this one may have replaced it.
      this.enqueue(() => {
        const current = this.entries.get(key);
        return current === undefined ? Promise.resolve() : this.upsert(current.meta.kind, current.object);
      });
    }
  }

  private publish(): void {
    const compiled = [...this.entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([, entry]) => (entry.good === undefined ? [] : [entry.good.policy]));
    this.snapshot = Object.freeze([...(this.options.filePolicies ?? []), ...compiled]);
  }

  /** Off the queue: a slow or unreachable API server delays no compile. Writes per object run in order. */
  private writeStatus(key: string, entry: Entry): void {
    if (entry.outcome === undefined) return;
    const condition = readyCondition(entry.outcome, generationOf(entry.object), entry.object.status, new Date());
    if (statusSays(entry.object.status, condition)) return;
    const previous = this.statusWrites.get(key) ?? Promise.resolve();
    const write = previous
      .then(() => writeReady(this.options.clients, entry.meta, condition))
      .catch((err: unknown) => {
        this.options.logger.warn('cannot write policy status', { policy: policyWhere(entry.meta), error: describeKubeError(err) });
      })
      .finally(() => {
        if (this.statusWrites.get(key) === write) this.statusWrites.delete(key);
      });
    this.statusWrites.set(key, write);
  }

  private signatureOf(entry: Entry, secrets: ReadonlySet<string>): string {
    const versions = [...secrets].sort().map((secret) => `${secret}@${this.options.secrets.version(secret)}`);
    return `${entry.uid}:${generationOf(entry.object)}:${versions.join(',')}`;
  }

  private usedSecrets(): Set<string> {
    return new Set([...this.entries.values()].flatMap((entry) => [...entry.secrets]));
  }
}

function keyOf(meta: PolicyObjectMeta): string {
  return `${meta.kind}/${meta.namespace ?? ''}/${meta.name}`;
}

function generationOf(object: PolicyObject): number {
  return object.metadata?.generation ?? 0;
}
