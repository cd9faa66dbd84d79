import { SigwardError } from '../errors.js';
import { ADMISSION_LIMITS } from './constants.js';
import { isJsonObject, ownField, Problems, type JsonObject } from '../fields.js';
import type { ImageUse, ReviewRequest } from './types.js';

/** Where a kind keeps its pod spec, and which lists of that spec hold containers. */
interface PodSpecLocation {
  readonly group: string;
  readonly segments: readonly string[];
  readonly inPod: boolean;
  readonly lists: readonly string[];
  /** Whether the spec's image volumes are examined (not when only ephemeral containers can change). */
  readonly volumes: boolean;
}

const ALL_CONTAINERS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const TEMPLATE = ['spec', 'template', 'spec'] as const;

/**
 * The kinds the webhook is registered for (docs/design.md §3). A Map, not an object literal, so a
 * request naming kind `constructor` finds nothing. The group is checked too: a custom resource
 * that happens to be called `Deployment` is not an apps/v1 Deployment.
 */
const LOCATIONS = new Map<string, PodSpecLocation>([
  // A Pod, also under the `pods/ephemeralcontainers` subresource, whose object is the whole Pod.
  ['Pod', { group: '', segments: ['spec'], inPod: true, lists: ALL_CONTAINERS, volumes: true }],
  // Before Kubernetes 1.23 that subresource sent an `EphemeralContainers` object instead.
  ['EphemeralContainers', { group: '', segments: [], inPod: true, lists: ['ephemeralContainers'], volumes: false }],
  ['PodTemplate', { group: '', segments: ['template', 'spec'], inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  ['ReplicationController', { group: '', segments: TEMPLATE, inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  ['Deployment', { group: 'apps', segments: TEMPLATE, inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  ['ReplicaSet', { group: 'apps', segments: TEMPLATE, inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  ['StatefulSet', { group: 'apps', segments: TEMPLATE, inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  ['DaemonSet', { group: 'apps', segments: TEMPLATE, inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  ['Job', { group: 'batch', segments: TEMPLATE, inPod: false, lists: ALL_CONTAINERS, volumes: true }],
  [
    'CronJob',
    { group: 'batch', segments: ['spec', 'jobTemplate', 'spec', 'template', 'spec'], inPod: false, lists: ALL_CONTAINERS, volumes: true },
  ],
]);

export interface ExtractOptions {
  readonly maxImages?: number;
}

/**
 * Every image the object would run or mount, with its field path and JSON pointer. Fails
 * closed: a container whose image cannot be read is an error, never skipped, so a malformed
 * entry cannot slip an image past verification.
 */
export function extractImages(request: ReviewRequest, options: ExtractOptions = {}): ImageUse[] {
  return imagesOf(request, request.object, options);
}

/** Whether sigward reads images out of objects of the request's kind (and group). */
export function isWorkloadKind(request: Pick<ReviewRequest, 'kind' | 'subResource'>): boolean {
  return locationOf(request) !== undefined;
}

/**
 * The images `oldObject` named, by JSON pointer, on an UPDATE; undefined when there is no old
 * object or it cannot be read (then every image counts as new).
 */
export function previousImages(request: ReviewRequest): ReadonlyMap<string, string> | undefined {
  if (request.operation !== 'UPDATE' || request.oldObject === undefined) return undefined;
  try {
    return new Map(imagesOf(request, request.oldObject, { maxImages: Number.MAX_SAFE_INTEGER }).map((use) => [use.pointer, use.image]));
  } catch {
    return undefined;
  }
}

/**
 * Where the request's kind keeps its pod spec. On the `pods/ephemeralcontainers` subresource
 * only ephemeral containers can change, so only they are examined (and patched).
 */
function locationOf(request: Pick<ReviewRequest, 'kind' | 'subResource'>): PodSpecLocation | undefined {
  const location = LOCATIONS.get(request.kind.kind);
  if (location === undefined || location.group !== request.kind.group) return undefined;
  if (request.kind.kind === 'Pod' && request.subResource === 'ephemeralcontainers') return { ...location, lists: ['ephemeralContainers'], volumes: false };
  return location;
}

function imagesOf(request: ReviewRequest, object: ReviewRequest['object'], options: ExtractOptions): ImageUse[] {
  const location = locationOf(request);
  if (object === undefined || location === undefined) return [];
  const problems = new Problems();
  const spec = walk(object, location.segments, problems);
  const uses: ImageUse[] = [];
  if (spec !== undefined) {
    const at = { path: location.segments, inPod: location.inPod };
    for (const list of location.lists) collectContainers(spec, list, at, uses, problems);
    if (location.volumes) collectImageVolumes(spec, at, uses, problems);
  }
  if (problems.count > 0) throw new SigwardError('REVIEW_INVALID', `${request.kind.kind} is invalid: ${problems.summary()}`);
  const max = options.maxImages ?? ADMISSION_LIMITS.maxImages;
  if (uses.length > max) {
    throw new SigwardError('REVIEW_TOO_LARGE', `${request.kind.kind} names ${uses.length} images, more than the limit of ${max}`);
  }
  return uses;
}

interface SpecAt {
  readonly path: readonly string[];
  readonly inPod: boolean;
}

function walk(object: JsonObject, segments: readonly string[], problems: Problems): JsonObject | undefined {
  let node: JsonObject = object;
  for (const [index, segment] of segments.entries()) {
    const next = ownField(node, segment);
    if (!isJsonObject(next)) {
      problems.add(segments.slice(0, index + 1).join('.'), 'missing or not an object');
      return undefined;
    }
    node = next;
  }
  return node;
}

function collectContainers(spec: JsonObject, list: string, at: SpecAt, uses: ImageUse[], problems: Problems): void {
  const entries = ownField(spec, list);
  if (entries === undefined || entries === null) return;
  const listPath = [...at.path, list];
  if (!Array.isArray(entries)) {
    problems.add(listPath.join('.'), 'not a list');
    return;
  }
  for (const [index, entry] of (entries as unknown[]).entries()) {
    const image = isJsonObject(entry) ? ownField(entry, 'image') : undefined;
    const segments = [...listPath, String(index), 'image'];
    if (!isJsonObject(entry)) problems.add(fieldPath(segments.slice(0, -1)), 'not an object');
    else if (typeof image !== 'string' || image === '') problems.add(fieldPath(segments), 'missing or not a non-empty string');
    else uses.push(use(segments, image, at.inPod, containerName(entry)));
  }
}

/**
 * OCI image volumes (`volumes[].image.reference`, Kubernetes ImageVolume): an image mounted as
 * a volume is content the pod runs with, so it is verified like a container image; otherwise an
 * unsigned image could ride into a pod as a volume.
 */
function collectImageVolumes(spec: JsonObject, at: SpecAt, uses: ImageUse[], problems: Problems): void {
  const volumes = ownField(spec, 'volumes');
  if (volumes === undefined || volumes === null) return;
  const listPath = [...at.path, 'volumes'];
  if (!Array.isArray(volumes)) {
    problems.add(listPath.join('.'), 'not a list');
    return;
  }
  for (const [index, volume] of (volumes as unknown[]).entries()) {
    const volumePath = [...listPath, String(index)];
    if (!isJsonObject(volume)) {
      problems.add(fieldPath(volumePath), 'not an object');
      continue;
    }
    const source = ownField(volume, 'image');
    if (source === undefined || source === null) continue;
    const segments = [...volumePath, 'image', 'reference'];
    const reference = isJsonObject(source) ? ownField(source, 'reference') : undefined;
    if (!isJsonObject(source)) problems.add(fieldPath(segments.slice(0, -1)), 'not an object');
    else if (typeof reference !== 'string' || reference === '') problems.add(fieldPath(segments), 'missing or not a non-empty string');
    else uses.push(use(segments, reference, at.inPod));
  }
}

function use(segments: readonly string[], image: string, inPod: boolean, container?: string): ImageUse {
  return { path: fieldPath(segments), pointer: '/' + segments.join('/'), image, inPod, ...(container === undefined ? {} : { container }) };
}

/** The container's name, for messages; cut, since it is echoed input. */
function containerName(entry: JsonObject): string | undefined {
  const name = ownField(entry, 'name');
  return typeof name === 'string' && name !== '' ? name.slice(0, ADMISSION_LIMITS.maxNameLength) : undefined;
}

/** `spec.containers[0].image` from `['spec', 'containers', '0', 'image']`. */
function fieldPath(segments: readonly string[]): string {
  let path = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path;
}
