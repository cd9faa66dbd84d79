import type { Repository } from '../reference/types.js';

/** What one registry call is about: every message it produces names the registry and the
 * repository, and the caller's signal bounds all of its requests. */
/** What a registry request does, for the latency histogram by operation. */
export type RegistryOperation = 'resolve' | 'manifest' | 'blob' | 'referrers' | 'token';

export interface CallContext {
  readonly repo: Repository;
  readonly operation: RegistryOperation;
  /** What is being fetched, for messages: `manifest v1`, `blob sha256:…`, `token`. */
  readonly what: string;
  readonly signal: AbortSignal | undefined;
}

export function subject(ctx: CallContext): string {
  return `${ctx.what} from registry ${ctx.repo.registry} (repository ${ctx.repo.repository})`;
}
