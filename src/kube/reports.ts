/**
 * Keeps one policy report per namespace current in the cluster. Admission (audit and warn
 * failures, as they happen) and the background scan (every running pod) feed ReportResults;
 * a namespace left with none has its report deleted. Writes are batched per namespace (one per
 * second at most) and never awaited by a review.
 */
import type { Logger } from '../log.js';
import { apiStatus, describeKubeError, type KubeClients } from './client.js';
import { REPORT, REPORT_APIS } from './constants.js';
import type { ReportApiDetector } from './report-api.js';
import { ReportResults } from './report-results.js';
import { reportObject, type ImageResult, type ReportApi } from './report-shape.js';

const FLUSH_DELAY_MS = 1000;

export class ReportWriter {
  private readonly results = new ReportResults();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly clients: KubeClients, private readonly detector: ReportApiDetector, private readonly logger: Logger) {}

  /** Admission results: each replaces an earlier one for the same resource, image and policy. */
  record(namespace: string, results: readonly ImageResult[]): void {
    if (results.length === 0) return;
    this.results.record(namespace, results);
    this.markDirty(namespace);
  }

  /** A scan's results for one namespace (empty: no pod there any more), started at `startedAt`. */
  replace(namespace: string, results: readonly ImageResult[], startedAt: number): void {
    this.results.replace(namespace, results, startedAt);
    this.markDirty(namespace);
  }

  /** Namespaces with results now, so a scan can empty those where it found no pod. */
  namespaces(): string[] {
    return this.results.namespaces();
  }

  /** Namespaces holding a report sigward wrote, this process or an earlier one. */
  async reported(): Promise<string[]> {
    const api = await this.detector.api();
    if (api === undefined) return [];
    const { group, version, plural } = REPORT_APIS[api];
    const labelSelector = Object.entries(REPORT.labels).map(([key, value]) => `${key}=${value}`).join(',');
    const list = (await this.clients.custom.listCustomObjectForAllNamespaces({ group, version, resourcePlural: plural, labelSelector })) as {
      items?: { metadata?: { name?: string; namespace?: string } }[];
    };
    return (list.items ?? []).flatMap((item) => (item.metadata?.name === REPORT.name && item.metadata.namespace !== undefined ? [item.metadata.namespace] : []));
  }

  /** Writes everything pending now (for shutdown and tests). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = [...this.dirty];
    this.dirty.clear();
    this.flushing = this.flushing.then(() => this.write(pending));
    await this.flushing;
  }

  private markDirty(namespace: string): void {
    this.dirty.add(namespace);
    this.timer ??= setTimeout(() => { void this.flush(); }, FLUSH_DELAY_MS);
  }

  private async write(namespaces: readonly string[]): Promise<void> {
    if (namespaces.length === 0) return;
    const api = await this.detector.api();
    if (api === undefined) return;
    for (const namespace of namespaces) {
      const results = this.results.take(namespace);
      try {
        if (results.length === 0) {
          await this.remove(api, namespace);
        } else {
          await this.put(api, namespace, results);
        }
      } catch (err) {
        this.logger.warn('cannot write the policy report', { namespace, error: describeKubeError(err) });
      }
    }
  }

  /** Create, or replace at the resourceVersion read (a concurrent writer makes this one retry later). */
  private async put(api: ReportApi, namespace: string, results: readonly ImageResult[]): Promise<void> {
    const { group, version, plural } = REPORT_APIS[api];
    const body = reportObject(api, namespace, results);
    const target = { group, version, namespace, plural, name: REPORT.name };
    let existing: { metadata?: { resourceVersion?: string } } | undefined;
    try {
      existing = (await this.clients.custom.getNamespacedCustomObject(target)) as typeof existing;
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
    }
    if (existing === undefined) {
      await this.clients.custom.createNamespacedCustomObject({ group, version, namespace, plural, body });
      return;
    }
    const metadata = { ...(body.metadata as object), resourceVersion: existing.metadata?.resourceVersion };
    try {
      await this.clients.custom.replaceNamespacedCustomObject({ ...target, body: { ...body, metadata } });
    } catch (err) {
      if (apiStatus(err) !== 409) throw err;
      this.markDirty(namespace);
    }
  }

  private async remove(api: ReportApi, namespace: string): Promise<void> {
    const { group, version, plural } = REPORT_APIS[api];
    try {
      await this.clients.custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: REPORT.name });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err;
    }
  }
}
