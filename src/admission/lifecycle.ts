import { isJsonObject, ownField } from '../fields.js';
import { previousImages } from './extract.js';
import type { ImageUse, ReviewRequest } from './types.js';

/**
 * An UPDATE of an object that is being deleted (`metadata.deletionTimestamp` set): it starts no
 * container, and it must go through, or a finalizer could never be removed from a pod admitted
 * before a policy existed and the pod, and its namespace, would never finish terminating.
 */
export function isTerminating(request: ReviewRequest): boolean {
  if (request.operation !== 'UPDATE') return false;
  // Both: the stored object (oldObject) must already be terminating. A client cannot set
  // deletionTimestamp by an update, but mutating webhooks see the request before the API server
  // restores it from the stored object, so the new object's alone proves nothing.
  return hasDeletionTimestamp(request.object) && hasDeletionTimestamp(request.oldObject);
}

function hasDeletionTimestamp(object: ReviewRequest['object']): boolean {
  if (object === undefined) return false;
  const metadata = ownField(object, 'metadata');
  if (!isJsonObject(metadata)) return false;
  const timestamp = ownField(metadata, 'deletionTimestamp');
  return typeof timestamp === 'string' && timestamp !== '';
}

/**
 * The image uses an admission judges. On UPDATE an image is judged only when its field differs
 * from the same field of `oldObject` (compared field by field, by JSON pointer, not "somewhere in
 * the old object": a new ephemeral container that reuses a tag of `containers` is new). An image
 * already running is not judged again; a scale or a label change is not a re-verification.
 */
export function changedUses(request: ReviewRequest, uses: readonly ImageUse[]): readonly ImageUse[] {
  const before = previousImages(request);
  if (before === undefined) return uses;
  return uses.filter((use) => before.get(use.pointer) !== use.image);
}
