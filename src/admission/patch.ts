import { SigwardError } from '../errors.js';
import { ADMISSION } from './constants.js';
import type { ImageUse } from './types.js';

/** One RFC 6902 operation; sigward only ever replaces an image string it was sent. */
export interface JsonPatchOperation {
  readonly op: 'replace';
  readonly path: string;
  readonly value: string;
}

export interface PinOptions {
  /** Rewrite workload templates too (`--mutate-workloads`); by default only a Pod's own fields. */
  readonly mutateWorkloads: boolean;
}

/** An image use and the digest its reference resolved to. */
export interface ImagePin {
  readonly use: ImageUse;
  readonly digest: string;
}

/** Digests sigward writes into pod specs: sha256 or sha512, lower-case hex of the right length. */
const PINNABLE_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** A reference already carries a digest when it has '@' (docker/distribution reference grammar). */
export function hasDigest(image: string): boolean {
  return image.includes('@');
}

/**
 * Whether /mutate pins this use. Templates are left alone unless asked, so GitOps tools that
 * compare a Deployment with its source see no drift; the pods they create are pinned instead.
 */
export function needsPin(use: ImageUse, options: PinOptions): boolean {
  return !hasDigest(use.image) && (use.inPod || options.mutateWorkloads);
}

/**
 * The image as written plus `@digest` (`nginx:1.27` → `nginx:1.27@sha256:…`): the kubelet then
 * pulls exactly the digest that was verified, and the tag stays readable. A digest that is not
 * well formed is refused rather than written into a pod spec.
 */
export function pinnedReference(image: string, digest: string): string {
  if (!PINNABLE_DIGEST.test(digest)) {
    throw new SigwardError('DIGEST_INVALID', `cannot pin ${image}: resolved digest ${JSON.stringify(digest.slice(0, 80))} is not a sha256 or sha512 digest`);
  }
  return `${image}@${digest}`;
}

/** Replace operations for every pin `needsPin` selects, in the order given. */
export function pinPatch(pins: readonly ImagePin[], options: PinOptions): JsonPatchOperation[] {
  const operations: JsonPatchOperation[] = [];
  for (const { use, digest } of pins) {
    if (!needsPin(use, options)) continue;
    operations.push({ op: 'replace', path: use.pointer, value: pinnedReference(use.image, digest) });
  }
  return operations;
}

/** The AdmissionResponse patch fields; none when there is nothing to pin. */
export function patchFields(operations: readonly JsonPatchOperation[]): { patchType?: typeof ADMISSION.patchType; patch?: string } {
  if (operations.length === 0) return {};
  return { patchType: ADMISSION.patchType, patch: Buffer.from(JSON.stringify(operations)).toString('base64') };
}
