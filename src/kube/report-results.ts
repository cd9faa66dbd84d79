/**
 * The results each namespace's report holds, and how they are kept current (pure; reports.ts
 * writes them). Admission adds results as it sees failures; a scan of a namespace replaces its
 * results, keeping only admission results newer than the scan's start, so results of pods that
 * are gone or fixed drop out, and a namespace left with none is reported empty (its report deleted).
 */
import { resultKey, type ImageResult } from './report-shape.js';

export class ReportResults {
  private readonly byNamespace = new Map<string, Map<string, ImageResult>>();

  /** Admission results: each replaces an earlier one for the same resource, image and policy. */
  record(namespace: string, results: readonly ImageResult[]): void {
    const current = this.byNamespace.get(namespace) ?? new Map<string, ImageResult>();
    for (const result of results) current.set(resultKey(result), result);
    this.byNamespace.set(namespace, current);
  }

  /** A scan's results for one namespace (empty: no pod there any more), the scan started at `startedAt`. */
  replace(namespace: string, results: readonly ImageResult[], startedAt: number): void {
    const next = new Map<string, ImageResult>();
    for (const [key, result] of this.byNamespace.get(namespace) ?? []) if (result.timestamp >= startedAt) next.set(key, result);
    for (const result of results) if (!next.has(resultKey(result))) next.set(resultKey(result), result);
    this.byNamespace.set(namespace, next);
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()];
  }

  /** The namespace's results now; a namespace with none is forgotten (its report is to be deleted). */
  take(namespace: string): ImageResult[] {
    const results = [...(this.byNamespace.get(namespace)?.values() ?? [])];
    if (results.length === 0) this.byNamespace.delete(namespace);
    return results;
  }
}
