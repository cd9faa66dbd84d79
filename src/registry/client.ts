import { MANIFEST_ACCEPT, MEDIA_TYPE } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Descriptor, Manifest, Registry, RegistryClientOptions, RequestOptions } from './types.js';
import { Authenticator } from './auth.js';
import { subject, type CallContext, type RegistryOperation } from './context.js';
import { statusError } from './failure.js';
import { registryUrl, type InsecureHosts } from './host.js';
import { Transport, type HttpReply } from './http.js';
import { LIMITS, type BodyLimit } from './limits.js';
import { headDescriptor, manifestMediaType } from './manifest.js';
import { checkOptions } from './options.js';
import { checkManifestReference, checkSha256, mediaTypeOf, nextPage, parseReferrersIndex, sha256Digest } from './parse.js';

/** Answers of a registry that has no referrers API (OCI distribution-spec v1.1 clients fall back
 * to the `sha256-<hex>` tag schema); distribution 2.8 answers 404 (environment-notes §1). */
const NO_REFERRERS_API = new Set([400, 404, 405, 406]);
const INDEX_TYPES = new Set<string>([MEDIA_TYPE.ociIndex, 'application/json']);

interface Exchange {
  readonly method: 'GET' | 'HEAD';
  readonly url: URL;
  readonly accept?: readonly string[];
  readonly limit?: BodyLimit;
}

/** sigward's OCI distribution client (see Registry in ./types.ts). */
export class RegistryClient implements Registry {
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly insecure: InsecureHosts;
  private readonly maxManifestBytes: number;
  private readonly maxBlobBytes: number;

  constructor(options: RegistryClientOptions) {
    const settings = checkOptions(options);
    this.insecure = settings.insecure;
    this.maxManifestBytes = settings.maxManifestBytes;
    this.maxBlobBytes = settings.maxBlobBytes;
    this.transport = new Transport(settings);
    this.auth = new Authenticator(this.transport, settings.insecure, settings.credentials);
  }

  /** Closes pooled connections. */
  close(): Promise<void> {
    return this.transport.close();
  }

  async resolve(repo: Repository, reference: string, options: RequestOptions = {}): Promise<Descriptor> {
    const ctx = context(repo, 'resolve', `manifest ${reference}`, options);
    const { digest: asked } = checkManifestReference(reference, subject(ctx));
    const url = registryUrl(repo, `manifests/${reference}`, this.insecure);
    const reply = await this.exchange(ctx, { method: 'HEAD', url, accept: MANIFEST_ACCEPT }, options);
    if (reply.status === 404) throw manifestUnknown(ctx, reference, asked);
    if (isSuccess(reply.status)) {
      const stated = headDescriptor(reply);
      if (stated !== undefined) {
        if (asked !== undefined && stated.digest !== asked) throw digestMismatch(ctx, asked, stated.digest);
        return stated;
      }
    } else if (reply.status < 400 || reply.status >= 500) {
      throw statusError(ctx, reply.status, reply.url);
    }
    // HEAD refused (405 and other 4xx) or its answer lacked the digest, type or length: GET and hash.
    const manifest = await this.getManifest(repo, reference, options);
    if (manifest === undefined) throw manifestUnknown(ctx, reference, asked);
    return { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.byteLength };
  }

  async getManifest(
    repo: Repository,
    reference: string,
    options: RequestOptions & { readonly accept?: readonly string[] } = {},
  ): Promise<Manifest | undefined> {
    const ctx = context(repo, 'manifest', `manifest ${reference}`, options);
    const { digest: asked } = checkManifestReference(reference, subject(ctx));
    const url = registryUrl(repo, `manifests/${reference}`, this.insecure);
    const accept = options.accept ?? MANIFEST_ACCEPT;
    const reply = await this.exchange(ctx, { method: 'GET', url, accept, limit: this.manifestLimit(ctx) }, options);
    if (reply.status === 404) return undefined;
    if (!isSuccess(reply.status)) throw statusError(ctx, reply.status, reply.url);
    // The digest is always that of the bytes received; Docker-Content-Digest is not trusted,
    // as registries get it wrong (cosign-spec §3.1).
    const digest = sha256Digest(reply.body);
    if (asked !== undefined && digest !== asked) throw digestMismatch(ctx, asked, digest);
    return { digest, mediaType: manifestMediaType(ctx, reply), bytes: reply.body };
  }

  async getBlob(
    repo: Repository,
    descriptor: Descriptor,
    options: RequestOptions & { readonly maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const ctx = context(repo, 'blob', `blob ${descriptor.digest}`, options);
    const digest = checkSha256(descriptor.digest, subject(ctx));
    const { size } = descriptor;
    const cap = Math.min(options.maxBytes ?? this.maxBlobBytes, this.maxBlobBytes);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SigwardError('BLOB_SIZE_MISMATCH', `${subject(ctx)}: descriptor size ${size} is not a byte count`);
    }
    if (size > cap) throw new SigwardError('BLOB_TOO_LARGE', `${subject(ctx)}: size ${size} is over the limit of ${cap} bytes`);
    // Reading stops one chunk past the stated size: more bytes than the descriptor names is a
    // mismatch whatever they hash to, and no registry can make sigward buffer more than the cap.
    const limit: BodyLimit = {
      maxBytes: size,
      exceeded: (bytes) =>
        bytes > cap
          ? new SigwardError('BLOB_TOO_LARGE', `${subject(ctx)}: ${bytes} bytes is over the limit of ${cap} bytes`)
          : sizeMismatch(ctx, size, bytes),
    };
    const url = registryUrl(repo, `blobs/${digest}`, this.insecure);
    const reply = await this.exchange(ctx, { method: 'GET', url, limit }, options);
    if (!isSuccess(reply.status)) throw statusError(ctx, reply.status, reply.url);
    if (reply.body.byteLength !== size) throw sizeMismatch(ctx, size, reply.body.byteLength);
    const actual = sha256Digest(reply.body);
    if (actual !== digest) {
      throw new SigwardError('BLOB_DIGEST_MISMATCH', `${subject(ctx)}: content hashes to ${actual}`);
    }
    return reply.body;
  }

  async getReferrers(repo: Repository, digest: string, options: RequestOptions = {}): Promise<readonly Descriptor[] | undefined> {
    const ctx = context(repo, 'referrers', `referrers of ${digest}`, options);
    checkSha256(digest, subject(ctx));
    const referrers: Descriptor[] = [];
    let url: URL | undefined = registryUrl(repo, `referrers/${digest}`, this.insecure);
    for (let page = 0; url !== undefined; page++) {
      if (page >= LIMITS.referrerPages) {
        throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${subject(ctx)}: more than ${LIMITS.referrerPages} pages`);
      }
      const reply = await this.exchange(ctx, { method: 'GET', url, accept: [MEDIA_TYPE.ociIndex], limit: this.manifestLimit(ctx) }, options);
      const found = page === 0 && NO_REFERRERS_API.has(reply.status) ? undefined : referrersOf(ctx, reply);
      if (found === undefined) {
        if (page === 0) return undefined;
        throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${subject(ctx)}: page ${page + 1} is not an image index`);
      }
      referrers.push(...found);
      url = nextPage(reply.headers.get('link'), reply.url);
    }
    return referrers;
  }

  /** One authenticated request; a 403 is final (REGISTRY_DENIED): other credentials are not
   * tried, since the registry has accepted who sigward is and refused the access. */
  private async exchange(ctx: CallContext, spec: Exchange, options: RequestOptions): Promise<HttpReply> {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'sigward' };
    if (spec.accept !== undefined) headers.accept = spec.accept.join(', ');
    const request = { method: spec.method, url: spec.url, headers, ...(spec.limit !== undefined ? { limit: spec.limit } : {}) };
    const reply = await this.auth.send(ctx, request, options.credentials);
    if (reply.status === 403) throw statusError(ctx, 403);
    return reply;
  }

  private manifestLimit(ctx: CallContext): BodyLimit {
    const max = this.maxManifestBytes;
    return {
      maxBytes: max,
      exceeded: (bytes) => new SigwardError('MANIFEST_TOO_LARGE', `${subject(ctx)}: ${bytes} bytes is over the limit of ${max} bytes`),
    };
  }
}

/** Descriptors of a 2xx referrers answer; undefined when it is not an image index (by its
 * Content-Type when it has one, else by shape: crane's registry sends none). */
function referrersOf(ctx: CallContext, reply: HttpReply): Descriptor[] | undefined {
  if (!isSuccess(reply.status)) throw statusError(ctx, reply.status, reply.url);
  const type = mediaTypeOf(reply.headers.get('content-type'));
  if (type !== undefined && !INDEX_TYPES.has(type)) return undefined;
  return parseReferrersIndex(reply.body, subject(ctx));
}

function context(repo: Repository, operation: RegistryOperation, what: string, options: RequestOptions): CallContext {
  return { repo, operation, what, signal: options.signal };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function manifestUnknown(ctx: CallContext, reference: string, asked: string | undefined): SigwardError {
  const image = `${ctx.repo.name}${asked === undefined ? ':' : '@'}${reference}`;
  return new SigwardError('MANIFEST_UNKNOWN', `${subject(ctx)}: image ${image} not found`);
}

function digestMismatch(ctx: CallContext, asked: string, actual: string): SigwardError {
  return new SigwardError('MANIFEST_DIGEST_MISMATCH', `${subject(ctx)}: asked for ${asked}, received ${actual}`);
}

function sizeMismatch(ctx: CallContext, expected: number, received: number): SigwardError {
  return new SigwardError('BLOB_SIZE_MISMATCH', `${subject(ctx)}: descriptor says ${expected} bytes, registry sent ${received}`);
}
