/**
 * AdmissionReview v1 requests as the API server sends them to `sigward serve`: one builder per
 * workload kind the webhook is registered for (docs/design.md §3), with containers, init containers and
 * ephemeral containers, the `pods/ephemeralcontainers` subresource, UPDATE with `oldObject`,
 * DELETE (object null, the old object sent instead) and dryRun.
 */
import { randomUUID } from 'node:crypto';

export type WorkloadKind =
  | 'Pod'
  | 'Deployment'
  | 'ReplicaSet'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob'
  | 'ReplicationController'
  | 'PodTemplate';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

interface KindInfo {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** Where the pod spec sits in the object, as path segments. */
  readonly podSpec: readonly string[];
}

/** Group, version, plural resource and pod spec location of every kind, as Kubernetes serves them. */
export const KINDS: Readonly<Record<WorkloadKind, KindInfo>> = {
  Pod: { group: '', version: 'v1', resource: 'pods', podSpec: ['spec'] },
  PodTemplate: { group: '', version: 'v1', resource: 'podtemplates', podSpec: ['template', 'spec'] },
  ReplicationController: { group: '', version: 'v1', resource: 'replicationcontrollers', podSpec: ['spec', 'template', 'spec'] },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', podSpec: ['spec', 'template', 'spec'] },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets', podSpec: ['spec', 'template', 'spec'] },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', podSpec: ['spec', 'template', 'spec'] },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', podSpec: ['spec', 'template', 'spec'] },
  Job: { group: 'batch', version: 'v1', resource: 'jobs', podSpec: ['spec', 'template', 'spec'] },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs', podSpec: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] },
};

export const ALL_KINDS = Object.keys(KINDS) as WorkloadKind[];

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

/** Images per container list of one pod spec; a bare string is one regular container. */
export type PodImages = string | Readonly<Partial<Record<ContainerList, readonly string[]>>>;

export type KubeObject = Record<string, unknown>;

/** `spec.template.spec.initContainers[0].image`: the field path sigward names in its messages. */
export function imagePath(kind: WorkloadKind, list: ContainerList = 'containers', index = 0): string {
  return `${KINDS[kind].podSpec.join('.')}.${list}[${index}].image`;
}

/** `/spec/template/spec/containers/0/image`: the JSON pointer of a /mutate patch. */
export function imagePointer(kind: WorkloadKind, list: ContainerList = 'containers', index = 0): string {
  return `/${[...KINDS[kind].podSpec, list, String(index), 'image'].join('/')}`;
}

/** A pod spec; ephemeral containers carry the fields the API server requires of them. */
export function podSpec(images: PodImages): KubeObject {
  const lists = typeof images === 'string' ? { containers: [images] } : images;
  const containers = (list: ContainerList, prefix: string): KubeObject[] | undefined =>
    lists[list]?.map((image, i) => ({
      name: `${prefix}-${i}`,
      image,
      ...(list === 'ephemeralContainers' ? { stdin: true, tty: true } : { imagePullPolicy: 'IfNotPresent' }),
    }));
  return {
    // Kubernetes requires containers; a spec given only other lists gets an empty one here.
    containers: containers('containers', 'app') ?? [],
    ...(lists.initContainers ? { initContainers: containers('initContainers', 'init') } : {}),
    ...(lists.ephemeralContainers ? { ephemeralContainers: containers('ephemeralContainers', 'debug') } : {}),
    restartPolicy: 'Always',
  };
}

/** The object of `kind` named `name` in `namespace` running `images`. */
export function workload(kind: WorkloadKind, images: PodImages, namespace = 'default', name = 'web'): KubeObject {
  const info = KINDS[kind];
  const apiVersion = info.group === '' ? info.version : `${info.group}/${info.version}`;
  const spec = podSpec(images);
  const labels = { app: name };
  const template = { metadata: { labels }, spec };
  const selector = { matchLabels: labels };
  const metadata = { name, namespace, labels, uid: randomUUID() };
  const body: Record<WorkloadKind, () => KubeObject> = {
    Pod: () => ({ spec }),
    PodTemplate: () => ({ template }),
    ReplicationController: () => ({ spec: { replicas: 1, selector: labels, template } }),
    Deployment: () => ({ spec: { replicas: 1, selector, template } }),
    ReplicaSet: () => ({ spec: { replicas: 1, selector, template } }),
    StatefulSet: () => ({ spec: { replicas: 1, serviceName: name, selector, template } }),
    DaemonSet: () => ({ spec: { selector, template } }),
    Job: () => ({ spec: { backoffLimit: 0, template: { ...template, spec: { ...spec, restartPolicy: 'Never' } } } }),
    CronJob: () => ({
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: { spec: { template: { ...template, spec: { ...spec, restartPolicy: 'Never' } } } },
      },
    }),
  };
  return { apiVersion, kind, metadata, ...body[kind]() };
}

export interface ReviewOptions {
  readonly kind: WorkloadKind;
  /** The object under review; `null` for DELETE. */
  readonly object: KubeObject | null;
  readonly oldObject?: KubeObject | null;
  readonly operation?: Operation;
  readonly namespace?: string;
  readonly name?: string;
  readonly subResource?: string;
  readonly dryRun?: boolean;
  readonly uid?: string;
}

export interface AdmissionReviewRequest {
  readonly apiVersion: 'admission.k8s.io/v1';
  readonly kind: 'AdmissionReview';
  readonly request: KubeObject & { readonly uid: string };
}

const OPERATION_OPTIONS: Readonly<Record<Operation, KubeObject>> = {
  CREATE: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
  UPDATE: { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' },
  DELETE: { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' },
  CONNECT: {},
};

/** A full AdmissionReview request with every field the API server fills in. */
export function review(options: ReviewOptions): AdmissionReviewRequest {
  const info = KINDS[options.kind];
  const operation = options.operation ?? 'CREATE';
  const namespace = options.namespace ?? 'default';
  const gvk = { group: info.group, version: info.version, kind: options.kind };
  const gvr = { group: info.group, version: info.version, resource: info.resource };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? randomUUID(),
      kind: gvk,
      resource: gvr,
      ...(options.subResource !== undefined ? { subResource: options.subResource } : {}),
      requestKind: gvk,
      requestResource: gvr,
      ...(options.subResource !== undefined ? { requestSubResource: options.subResource } : {}),
      name: options.name ?? 'web',
      namespace,
      operation,
      userInfo: { username: 'system:serviceaccount:ci:deployer', uid: randomUUID(), groups: ['system:authenticated'] },
      object: options.object,
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
      options: OPERATION_OPTIONS[operation],
    },
  };
}

/** CREATE of `kind` running `images` in `namespace`. */
export function createReview(kind: WorkloadKind, images: PodImages, extra: Partial<ReviewOptions> = {}): AdmissionReviewRequest {
  const namespace = extra.namespace ?? 'default';
  return review({ kind, object: workload(kind, images, namespace), namespace, ...extra });
}

/**
 * `kubectl debug`: an UPDATE of the `pods/ephemeralcontainers` subresource whose object is the
 * whole Pod with the new ephemeral container added (Kubernetes 1.23 and later).
 */
export function ephemeralReview(appImage: string, debugImage: string, namespace = 'default'): AdmissionReviewRequest {
  const oldPod = workload('Pod', { containers: [appImage] }, namespace);
  const newPod = { ...oldPod, spec: podSpec({ containers: [appImage], ephemeralContainers: [debugImage] }) };
  return review({ kind: 'Pod', operation: 'UPDATE', subResource: 'ephemeralcontainers', object: newPod, oldObject: oldPod, namespace });
}

/** UPDATE of `kind` from `oldImages` to `newImages`. */
export function updateReview(kind: WorkloadKind, oldImages: PodImages, newImages: PodImages): AdmissionReviewRequest {
  return review({ kind, operation: 'UPDATE', object: workload(kind, newImages), oldObject: workload(kind, oldImages) });
}

/** DELETE of `kind`: no object, the deleted one as `oldObject`. */
export function deleteReview(kind: WorkloadKind, images: PodImages): AdmissionReviewRequest {
  return review({ kind, operation: 'DELETE', object: null, oldObject: workload(kind, images) });
}
