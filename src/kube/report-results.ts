/**
 * The results each namespace's report holds, and how they are kept current (pure; reports.ts
 * writes them). Admission adds results as it sees failures; a scan of a namespace replaces its
 * results, keeping only admission results newer than the scan's start, so results of pods that
 * are gone or fixed drop out, and a namespace left with none is reported empty (its report deleted).
 *
 * Bounded whatever the cluster or a flood of reviews holds: per namespace at most
 * REPORT.maxResults failing and as many passing results are kept, each set evicting its least
 * recently recorded result first (a failure is never evicted to make room for a pass), and at
 * most MAX_NAMESPACES namespaces, the least recently recorded forgotten first.
 */
import { REPORT } from './constants.js';
import { resultKey, type ImageResult } from './report-shape.js';

/** Namespaces remembered at once; one forgotten is reported again by the next scan. */
export const MAX_NAMESPACES = 10_000;

/** One namespace's results, failing (fail, error, warn) and passing apart, each an LRU map. */
class NamespaceResults {
  private readonly failing = new Map<string, ImageResult>();
  private readonly passing = new Map<string, ImageResult>();

  constructor(private readonly cap: number) {}

  set(result: ImageResult): void {
    const key = resultKey(result);
    // A result replaces the earlier one for its resource, image and policy, whichever set that was in.
    this.failing.delete(key);
    this.passing.delete(key);
    const into = result.result === 'pass' ? this.passing : this.failing;
    into.set(key, result);
    if (into.size > this.cap) into.delete(into.keys().next().value!);
  }

  has(result: ImageResult): boolean {
    const key = resultKey(result);
    return this.failing.has(key) || this.passing.has(key);
  }

  /** Failing results first, then passing, each in the order they were recorded. */
  all(): ImageResult[] {
    return [...this.failing.values(), ...this.passing.values()];
  }

  get size(): number {
    return this.failing.size + this.passing.size;
  }
}

export class ReportResults {
  private readonly byNamespace = new Map<string, NamespaceResults>();

  constructor(private readonly perNamespace: number = REPORT.maxResults, private readonly maxNamespaces: number = MAX_NAMESPACES) {}

  /** Admission results: each replaces an earlier one for the same resource, image and policy. */
  record(namespace: string, results: readonly ImageResult[]): void {
    const current = this.touch(namespace);
    for (const result of results) current.set(result);
  }

  /** A scan's results for one namespace (empty: no pod there any more), the scan started at `startedAt`. */
  replace(namespace: string, results: readonly ImageResult[], startedAt: number): void {
    const next = new NamespaceResults(this.perNamespace);
    for (const result of this.byNamespace.get(namespace)?.all() ?? []) if (result.timestamp >= startedAt) next.set(result);
    for (const result of results) if (!next.has(result)) next.set(result);
    this.byNamespace.delete(namespace);
    this.byNamespace.set(namespace, next);
    this.trim();
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  /** The namespace's results now, failing first; a namespace with none is forgotten (its report is to be deleted). */
  take(namespace: string): ImageResult[] {
    const current = this.byNamespace.get(namespace);
    if (current === undefined || current.size === 0) {
      this.byNamespace.delete(namespace);
      return [];
    }
    return current.all();
  }

  private touch(namespace: string): NamespaceResults {
    const current = this.byNamespace.get(namespace) ?? new NamespaceResults(this.perNamespace);
    this.byNamespace.delete(namespace);
    this.byNamespace.set(namespace, current);
    this.trim();
    return current;
  }

  private trim(): void {
    while (this.byNamespace.size > this.maxNamespaces) this.byNamespace.delete(this.byNamespace.keys().next().value!);
  }
}
