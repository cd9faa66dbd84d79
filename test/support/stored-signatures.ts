/**
 * Puts recorded signatures into an in-memory registry where cosign would have pushed them:
 * bundles as referrers listed in the `sha256-<hex>` referrers tag index (cosign v3 on a
 * registry without the referrers API), legacy layers at `sha256-<hex>.sig` (cosign v2).
 */
import { MEDIA_TYPE } from '../../src/constants.js';
import { digestOf } from '../../src/crypto/hash.js';
import type { Repository } from '../../src/reference/types.js';
import { fixtureBytes, readStoredSignature, signatureManifest, type LayerSpec } from '../unit/cosign-fixtures.js';

/** What these helpers need of test/unit/cosign-fixtures.ts's MemoryRegistry. */
export interface WritableRegistry {
  putBlob(bytes: Uint8Array): string;
  putManifest(repo: Repository, tag: string, bytes: Uint8Array, mediaType?: string): string;
}

const encode = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));

/** Serves `bundles` as referrers of `digest`, each in a referring manifest shaped as cosign v3 writes it. */
export function serveBundles(registry: WritableRegistry, repo: Repository, digest: string, bundles: readonly Uint8Array[]): void {
  const empty = new TextEncoder().encode('{}');
  const manifests = bundles.map((bundle, i) => {
    const manifest = encode({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      artifactType: MEDIA_TYPE.sigstoreBundleV03,
      config: { mediaType: MEDIA_TYPE.ociEmpty, size: empty.length, digest: digestOf(empty) },
      layers: [{ mediaType: MEDIA_TYPE.sigstoreBundleV03, size: bundle.length, digest: registry.putBlob(bundle) }],
      subject: { mediaType: MEDIA_TYPE.ociManifest, size: 1000, digest },
    });
    // Registries list cosign's referrers with the config media type as artifactType (cosign-spec §2.3).
    const referrer = registry.putManifest(repo, `referrer-${digest.slice(7, 19)}-${i}`, manifest);
    return { mediaType: MEDIA_TYPE.ociManifest, size: manifest.length, digest: referrer, artifactType: MEDIA_TYPE.ociEmpty };
  });
  registry.putManifest(repo, digest.replace(':', '-'), encode({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests }), MEDIA_TYPE.ociIndex);
}

/** Serves legacy signature layers at `sha256-<hex>.sig`. */
export function serveLegacy(registry: WritableRegistry, repo: Repository, digest: string, layers: readonly LayerSpec[]): void {
  for (const layer of layers) registry.putBlob(layer.payload);
  registry.putManifest(repo, `${digest.replace(':', '-')}.sig`, signatureManifest(layers));
}

/** A containers/image fixture (`legacy/containers-image/dir-img-cosign-<name>`): its first signature as a layer, and the digest it signs. */
export function containersImageSignature(name: string): { readonly layer: LayerSpec; readonly digest: string } {
  const dir = `legacy/containers-image/dir-img-cosign-${name}`;
  return { layer: readStoredSignature(`${dir}/signature-1`), digest: digestOf(fixtureBytes(`${dir}/manifest.json`)) };
}
