/**
 * The background scan: every `--scan-interval`, each running pod's images are decided again
 * under the policies in force now (through the evaluator and its caches, with the pod's own
 * pull secrets), and the results become each namespace's policy report. This is how a report
 * shows what switching an audit policy to enforce would deny, and how results of pods that are
 * gone or fixed drop out. Pods the webhook never sees are not scanned either: kube-system,
 * sigward's own namespace, `--exclude-namespace` and namespaces labelled `--exclude-label`=true.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { extractImages } from '../admission/extract.js';
import type { ImageEvaluator, ReviewRequest } from '../admission/types.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Auditor } from './audit.js';
import { describeKubeError, type KubeClients } from './client.js';
import { SYSTEM_NAMESPACES } from './constants.js';
import { resultsOf, type ImageResult } from './report-shape.js';
import type { ReportWriter } from './reports.js';

const PAGE = 500;
const POD_TIMEOUT_MS = 30_000;
/** The first scan waits for the policies to be synced, and this long after start. */
const FIRST_DELAY_MS = 5_000;

export interface PodScannerOptions {
  readonly clients: KubeClients;
  readonly evaluator: ImageEvaluator;
  readonly auditor: Auditor;
  readonly writer: ReportWriter;
  readonly intervalMs: number;
  readonly ownNamespace: string;
  /** Namespaces the webhook configuration excludes, besides the system ones and sigward's own. */
  readonly excludedNamespaces?: readonly string[];
  /** A namespace labelled `<excludeLabel>=true` is excluded, as the webhook's namespaceSelector does. */
  readonly excludeLabel?: string;
  readonly namespaceLabels?: (namespace: string) => Readonly<Record<string, string>> | undefined;
  readonly logger: Logger;
}

export class PodScanner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: PodScannerOptions) {}

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.schedule(FIRST_DELAY_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }

  /** One scan of every namespace; resolves when its reports are written. */
  async scan(): Promise<void> {
    const startedAt = Date.now();
    const byNamespace = new Map<string, ImageResult[]>();
    let pods = 0;
    let next: string | undefined;
    do {
      const page = await this.options.clients.core.listPodForAllNamespaces({ limit: PAGE, ...(next === undefined ? {} : { _continue: next }) });
      for (const pod of page.items) {
        if (this.abort.signal.aborted) return;
        const results = await this.scanPod(pod);
        if (results === undefined) continue;
        pods++;
        const namespace = pod.metadata?.namespace ?? '';
        const list = byNamespace.get(namespace);
        if (list === undefined) byNamespace.set(namespace, [...results]);
        else list.push(...results);
      }
      next = page.metadata?._continue || undefined;
    } while (next !== undefined);
    const { writer } = this.options;
    // Reports left by an earlier run in namespaces with no pod now are emptied too.
    const earlier = await writer.reported().catch((err: unknown) => {
      this.options.logger.warn('cannot list earlier reports', { error: describeKubeError(err) });
      return [];
    });
    const namespaces = new Set([...byNamespace.keys(), ...writer.namespaces(), ...earlier]);
    for (const namespace of namespaces) writer.replace(namespace, byNamespace.get(namespace) ?? [], startedAt);
    await writer.flush();
    this.options.logger.info('scan done', { pods, namespaces: byNamespace.size, ms: Date.now() - startedAt });
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.options.intervalMs);
      });
    }, delayMs);
  }

  private async tick(): Promise<void> {
    if (!this.options.evaluator.ready()) {
      this.options.logger.info('scan skipped: policies not synced yet');
      return;
    }
    try {
      await this.scan();
    } catch (err) {
      this.options.logger.warn('scan failed', { error: describeKubeError(err) });
    }
  }

  /** Whether the webhook never sees the namespace's pods: the scan does not judge them either. */
  private excluded(namespace: string): boolean {
    const { ownNamespace, excludedNamespaces = [], excludeLabel, namespaceLabels } = this.options;
    if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace) || namespace === ownNamespace || excludedNamespaces.includes(namespace)) return true;
    return excludeLabel !== undefined && namespaceLabels?.(namespace)?.[excludeLabel] === 'true';
  }

  /** The pod's results, or undefined for a pod that is not scanned (finished, or in a system namespace). */
  private async scanPod(pod: V1Pod): Promise<ImageResult[] | undefined> {
    const namespace = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (namespace === undefined || name === undefined || this.excluded(namespace)) return undefined;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return undefined;
    const request: ReviewRequest = {
      uid: `scan-${pod.metadata?.uid ?? name}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      subResource: undefined,
      namespace,
      name,
      operation: 'CREATE',
      dryRun: false,
      object: pod as unknown as Readonly<Record<string, unknown>>,
    };
    const resource = { apiVersion: 'v1', kind: 'Pod', name, namespace, ...(pod.metadata?.uid === undefined ? {} : { uid: pod.metadata.uid }) };
    try {
      const uses = extractImages(request);
      const decided = this.options.auditor.collect(request);
      await this.options.evaluator.evaluate(uses, request, AbortSignal.any([this.abort.signal, AbortSignal.timeout(POD_TIMEOUT_MS)]));
      const now = Date.now();
      const results = decided.flatMap((image) => resultsOf(image, resource, now));
      for (const result of results) this.options.auditor.notify(result);
      return results;
    } catch (err) {
      this.options.logger.warn('cannot scan pod', { pod: `${namespace}/${name}`, error: describeError(err) });
      return [];
    }
  }
}
