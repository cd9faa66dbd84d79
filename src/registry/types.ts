import type { CredentialProvider } from '../credentials/types.js';
import type { Repository } from '../reference/types.js';
import type { HostResolver } from './realm.js';

/** An OCI content descriptor, as parsed from registry JSON (narrowed, size-checked). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly artifactType?: string;
  /** An image index entry's platform. */
  readonly platform?: { readonly os: string; readonly architecture: string; readonly variant?: string };
}

export interface Manifest {
  /** Digest of the exact bytes: computed, and compared with the one asked for when asked by digest. */
  readonly digest: string;
  /** Content-Type of the answer (parameters removed), else the document's own `mediaType`. */
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

export type { Credential, CredentialProvider } from '../credentials/types.js';

export interface RequestOptions {
  readonly signal?: AbortSignal;
  /** Credentials for this call only (a policy's signature pull secrets, a pod's pull secrets), tried in order before the client's own. */
  readonly credentials?: CredentialProvider | readonly CredentialProvider[];
}

/** One registry request as metrics see it: its host, what it did, how it ended, how long it took. */
export type RegistryEvent = {
  readonly registry: string;
  readonly operation: 'resolve' | 'manifest' | 'blob' | 'referrers' | 'token';
  readonly status: string;
  readonly seconds: number;
};

export interface RegistryClientOptions {
  /** Extra PEM CA certificates trusted besides the system store (`--ca-file`). */
  readonly caCertificates?: readonly string[];
  /** Hosts (`host[:port]`) spoken to over plain HTTP (`--insecure-registry`); all others HTTPS only. */
  readonly insecureRegistries?: readonly string[];
  /** The client's own credential sources, tried in order after a call's own (plugins, then a docker config). */
  readonly credentials?: CredentialProvider | readonly CredentialProvider[];
  /** Per-request timeout in milliseconds (`--timeout`). Default 10 000. */
  readonly requestTimeoutMs?: number;
  /** Retries on 429/5xx and connection resets, with jittered backoff honouring Retry-After. Default 2. */
  readonly maxRetries?: number;
  /** Concurrent requests per registry host. Default 16. */
  readonly maxConcurrentPerHost?: number;
  /** Default 4 MiB. */
  readonly maxManifestBytes?: number;
  /** Default 16 MiB. */
  readonly maxBlobBytes?: number;
  /** Called once per HTTP response or failure (metrics). */
  readonly onRequest?: (event: RegistryEvent) => void;
  /** Resolves token realm hosts for the public-address check (tests give a fixed table). */
  readonly resolveHost?: HostResolver;
}

/** The only HTTP client of sigward; see registry/client.ts. */
export interface Registry {
  /** Resolves a tag (or digest) to the descriptor of the manifest it names (HEAD, GET fallback). */
  resolve(repo: Repository, reference: string, options?: RequestOptions): Promise<Descriptor>;
  /** GET a manifest by tag or digest; `undefined` on 404. */
  getManifest(
    repo: Repository,
    reference: string,
    options?: RequestOptions & { readonly accept?: readonly string[] },
  ): Promise<Manifest | undefined>;
  /** GET a blob, checked against the descriptor's digest and size before it is returned. */
  getBlob(repo: Repository, descriptor: Descriptor, options?: RequestOptions & { readonly maxBytes?: number }): Promise<Uint8Array>;
  /** The referrers of a digest; `undefined` when the registry has no referrers API (caller falls back to the tag schema). */
  getReferrers(repo: Repository, digest: string, options?: RequestOptions): Promise<readonly Descriptor[] | undefined>;
}
