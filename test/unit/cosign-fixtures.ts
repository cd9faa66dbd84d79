/**
 * Test support for the crypto and cosign unit tests: the recorded fixtures (real cosign output,
 * see the fixtures' PROVENANCE.md) and an in-memory registry that serves them through the
 * `Registry` interface, checking blobs against their descriptors as the real client does.
 */
import { randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestOf } from '../../src/crypto/hash.js';
import { SigwardError } from '../../src/errors.js';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import type { Repository } from '../../src/reference/types.js';
import type { Descriptor, Manifest, Registry, RequestOptions } from '../../src/registry/types.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `$SIGWARD_FIXTURES`, else `test/fixtures`, else the shared fixture folder next to the repository. */
export const FIXTURES = [process.env.SIGWARD_FIXTURES, join(REPO_ROOT, 'test', 'fixtures'), join(REPO_ROOT, '..', 'shared', 'fixtures')]
  .filter((dir): dir is string => dir !== undefined && dir !== '')
  .find((dir) => existsSync(join(dir, 'cases.json'))) ?? '(fixtures not found: set SIGWARD_FIXTURES)';

export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, path)));
}

export function fixtureText(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

/** One entry of cases.json (only the fields these tests read). */
export interface FixtureCase {
  readonly id: string;
  readonly kind: string;
  readonly expect: 'pass' | 'fail';
  readonly why?: string;
  readonly publicKey?: string;
  readonly payload?: string;
  readonly signatureB64?: string;
  readonly imageManifest?: string;
  readonly expectedDigest?: string;
  readonly signatureManifest?: string;
  readonly annotations?: string;
  readonly certificate?: string;
  readonly bundle?: string;
  readonly subjectDigest?: string;
  readonly nodeChecks: string;
}

export function loadCases(): FixtureCase[] {
  return JSON.parse(fixtureText('cases.json')) as FixtureCase[];
}

export function legacyCases(): FixtureCase[] {
  return loadCases().filter((c) => c.kind.startsWith('legacy'));
}

/** A signature file of containers/image's `dir:` transport: `\0sigstore-json\n` + JSON. */
export interface StoredSignature {
  /** The layer media type, `mimeType` in the file. */
  readonly mediaType: string;
  readonly payload: Uint8Array;
  readonly annotations: Record<string, string>;
}

export function readStoredSignature(path: string): StoredSignature {
  const bytes = fixtureBytes(path);
  const prefix = '\0sigstore-json\n';
  const text = new TextDecoder().decode(bytes);
  if (!text.startsWith(prefix)) throw new Error(`${path}: not a sigstore-json signature file`);
  const doc = JSON.parse(text.slice(prefix.length)) as { mimeType: string; payload: string; annotations: Record<string, string> };
  return { mediaType: doc.mimeType, payload: new Uint8Array(Buffer.from(doc.payload, 'base64')), annotations: doc.annotations };
}

export function repository(name: string): Repository {
  const slash = name.indexOf('/');
  return { registry: name.slice(0, slash), repository: name.slice(slash + 1), name };
}

export interface LayerSpec {
  readonly mediaType: string;
  readonly payload: Uint8Array;
  readonly annotations?: Record<string, string>;
  /** Overrides the size the descriptor declares (the blob stays the real one). */
  readonly declaredSize?: number;
}

/** An OCI signature manifest shaped as cosign writes it, around real payloads and annotations. */
export function signatureManifest(layers: readonly LayerSpec[]): Uint8Array {
  const config = new TextEncoder().encode('{}');
  const doc = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, size: config.length, digest: digestOf(config) },
    layers: layers.map((layer) => ({
      mediaType: layer.mediaType,
      size: layer.declaredSize ?? layer.payload.length,
      digest: digestOf(layer.payload),
      ...(layer.annotations ? { annotations: layer.annotations } : {}),
    })),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

interface StoredManifest {
  readonly bytes: Uint8Array;
  readonly mediaType: string;
}

/**
 * A registry in memory, behind the same interface as the real client. It has no referrers API
 * (like distribution 2.8). getBlob refuses by declared size before "requesting" and checks
 * digest and size after, as the real client does; every call is recorded for the tests.
 */
export class MemoryRegistry implements Registry {
  readonly manifestRequests: { repo: string; reference: string; accept: readonly string[] }[] = [];
  readonly blobRequests: string[] = [];
  private readonly manifests = new Map<string, StoredManifest>();
  private readonly blobs = new Map<string, Uint8Array>();
  private inFlight = 0;
  maxInFlight = 0;

  putManifest(repo: Repository, tag: string, bytes: Uint8Array, mediaType: string = MEDIA_TYPE.ociManifest): string {
    const digest = digestOf(bytes);
    this.manifests.set(`${repo.name}:${tag}`, { bytes, mediaType });
    this.manifests.set(`${repo.name}@${digest}`, { bytes, mediaType });
    return digest;
  }

  putBlob(bytes: Uint8Array): string {
    const digest = digestOf(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  /** Stores `bytes` under a digest they do not have: a registry backend that lies. */
  putBlobAs(digest: string, bytes: Uint8Array): void {
    this.blobs.set(digest, bytes);
  }

  resolve(repo: Repository, reference: string): Promise<Descriptor> {
    const stored = this.lookup(repo, reference);
    if (!stored) return Promise.reject(new SigwardError('MANIFEST_UNKNOWN', `${repo.name}:${reference}: not found`));
    return Promise.resolve({ mediaType: stored.mediaType, digest: digestOf(stored.bytes), size: stored.bytes.length });
  }

  getManifest(repo: Repository, reference: string, options: { readonly accept?: readonly string[] } = {}): Promise<Manifest | undefined> {
    const accept = options.accept ?? [];
    this.manifestRequests.push({ repo: repo.name, reference, accept });
    const stored = this.lookup(repo, reference);
    if (!stored) return Promise.resolve(undefined);
    return Promise.resolve({ digest: digestOf(stored.bytes), mediaType: stored.mediaType, bytes: stored.bytes });
  }

  async getBlob(_repo: Repository, descriptor: Descriptor, options: RequestOptions & { readonly maxBytes?: number } = {}): Promise<Uint8Array> {
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    if (descriptor.size > maxBytes) {
      throw new SigwardError('BLOB_TOO_LARGE', `${descriptor.digest}: ${descriptor.size} bytes exceeds ${maxBytes}`);
    }
    this.blobRequests.push(descriptor.digest);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((done) => setTimeout(done, 2));
    this.inFlight--;
    const bytes = this.blobs.get(descriptor.digest);
    if (!bytes) throw new SigwardError('REGISTRY_ERROR', `${descriptor.digest}: blob unknown`);
    if (bytes.length !== descriptor.size) throw new SigwardError('BLOB_SIZE_MISMATCH', `${descriptor.digest}: size differs`);
    if (digestOf(bytes) !== descriptor.digest) throw new SigwardError('BLOB_DIGEST_MISMATCH', `${descriptor.digest}: digest differs`);
    return bytes;
  }

  getReferrers(): Promise<readonly Descriptor[] | undefined> {
    return Promise.resolve(undefined);
  }

  private lookup(repo: Repository, reference: string): StoredManifest | undefined {
    const separator = reference.includes(':') ? '@' : ':';
    return this.manifests.get(`${repo.name}${separator}${reference}`);
  }
}

/** Stores a legacy cosign signature of `digest` made with `privateKey` in `signatures`. */
export function signDigest(registry: MemoryRegistry, image: Repository, digest: string, privateKey: KeyObject, signatures: Repository = image): void {
  const payload = new TextEncoder().encode(JSON.stringify({
    critical: { identity: { 'docker-reference': image.name }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: null,
  }));
  registry.putBlob(payload);
  registry.putManifest(signatures, `${digest.replace(':', '-')}.sig`, signatureManifest([
    { mediaType: MEDIA_TYPE.simpleSigning, payload, annotations: { [ANNOTATION.signature]: cryptoSign('sha256', payload, privateKey).toString('base64') } },
  ]));
}

/**
 * Pushes `image:tag` (a fresh manifest, so a fresh digest) and a legacy signature of it made with
 * `privateKey` to `signatures` (the image's own repository unless given); returns the digest.
 */
export function pushSignedImage(registry: MemoryRegistry, image: Repository, tag: string, privateKey: KeyObject, signatures: Repository = image): string {
  const manifest = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, nonce: randomBytes(8).toString('hex') }));
  const digest = registry.putManifest(image, tag, manifest);
  signDigest(registry, image, digest, privateKey, signatures);
  return digest;
}
