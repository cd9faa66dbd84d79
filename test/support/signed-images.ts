/**
 * Test images as a webhook meets them: pushed to a real registry with a random layer (so every
 * image has its own digest) and signed at that digest by the real cosign, once per key.
 */
import { sign, type CosignKeyPair } from './cosign.js';
import { pushRandomImage } from './images.js';
import type { TestRegistry } from './registries.js';

export interface TestImage {
  /** `HOST/REPO`. */
  readonly repository: string;
  readonly tag: string;
  /** `HOST/REPO:TAG`, as a pod spec names it. */
  readonly reference: string;
  readonly digest: string;
  /** `HOST/REPO@DIGEST`. */
  readonly byDigest: string;
}

/** Pushes `repo:tag` and signs its digest with each key in turn (cosign v2, legacy `.sig` tag;
 * one after another, since each signing appends a layer to the same signature manifest). */
export async function pushImage(registry: TestRegistry, repo: string, tag: string, signers: readonly CosignKeyPair[] = []): Promise<TestImage> {
  const pushed = await pushRandomImage(registry, repo, tag);
  const repository = `${registry.host}/${repo}`;
  const image = { repository, tag, reference: `${repository}:${tag}`, digest: pushed.digest, byDigest: `${repository}@${pushed.digest}` };
  for (const key of signers) await sign({ cosign: 2, image: image.byDigest, key, registry });
  return image;
}
