/**
 * AdmissionReview requests shaped as kube-apiserver sends them (admission.k8s.io/v1, with the
 * fields a real request carries: requestKind, userInfo, options, oldObject). Negative cases in
 * the tests are made by mutating copies of these.
 */
export type Doc = Record<string, unknown>;

export const DIGEST_A = `sha256:${'a1'.repeat(32)}`;
export const DIGEST_B = `sha256:${'b2'.repeat(32)}`;

const GVK: Record<string, { group: string; version: string; resource: string }> = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  PodTemplate: { group: '', version: 'v1', resource: 'podtemplates' },
  ReplicationController: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  Job: { group: 'batch', version: 'v1', resource: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  ConfigMap: { group: '', version: 'v1', resource: 'configmaps' },
};

/** A pod spec with one of everything sigward reads. */
export function podSpec(): Record<string, unknown> {
  return {
    initContainers: [{ name: 'migrate', image: 'registry.example.com/acme/migrate:2.1', resources: {} }],
    containers: [
      { name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'IfNotPresent' },
      { name: 'sidecar', image: `registry.example.com/acme/proxy@${DIGEST_A}` },
    ],
    volumes: [
      { name: 'config', configMap: { name: 'web-config' } },
      { name: 'models', image: { reference: 'registry.example.com/acme/models:v3', pullPolicy: 'IfNotPresent' } },
    ],
    restartPolicy: 'Always',
    serviceAccountName: 'web',
  };
}

function objectFor(kind: string): Record<string, unknown> {
  const metadata = { name: 'web', namespace: 'team-a', labels: { app: 'web' } };
  const template = { metadata: { labels: { app: 'web' } }, spec: podSpec() };
  const apiVersion = GVK[kind]!.group === '' ? 'v1' : `${GVK[kind]!.group}/v1`;
  switch (kind) {
    case 'Pod':
      return { apiVersion, kind, metadata, spec: podSpec() };
    case 'PodTemplate':
      return { apiVersion, kind, metadata, template };
    case 'CronJob':
      return { apiVersion, kind, metadata, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template } } } };
    case 'ConfigMap':
      return { apiVersion, kind, metadata, data: { image: 'nginx:1.27' } };
    default:
      return { apiVersion, kind, metadata, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } };
  }
}

/** A CREATE review of `kind` in namespace team-a, as JSON-parsed from the wire. */
export function reviewOf(kind: string, uid = '705ab4f5-6393-11e8-b7cc-42010a800002'): Doc {
  const gvk = GVK[kind]!;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: gvk.group, version: gvk.version, kind },
      resource: { group: gvk.group, version: gvk.version, resource: gvk.resource },
      requestKind: { group: gvk.group, version: gvk.version, kind },
      requestResource: { group: gvk.group, version: gvk.version, resource: gvk.resource },
      name: 'web',
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
      object: objectFor(kind),
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** The `pods/ephemeralcontainers` UPDATE `kubectl debug` makes: the object is the whole Pod. */
export function ephemeralReview(): Doc {
  const review = reviewOf('Pod');
  const pod = at(review, 'request.object');
  set(review, 'request.subResource', 'ephemeralcontainers');
  set(review, 'request.operation', 'UPDATE');
  set(review, 'request.options', { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' });
  set(review, 'request.oldObject', structuredClone(pod));
  set(review, 'request.object.spec.ephemeralContainers', [
    { name: 'debugger-x7k2', image: 'busybox:1.36', targetContainerName: 'web', stdin: true, tty: true },
  ]);
  return review;
}

/** A DELETE: no object, the old one in oldObject. */
export function deleteReview(kind = 'Pod'): Doc {
  const review = reviewOf(kind);
  set(review, 'request.operation', 'DELETE');
  set(review, 'request.oldObject', at(review, 'request.object'));
  set(review, 'request.object', null);
  set(review, 'request.options', { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' });
  return review;
}

/** The value at a dotted path (`request.object.spec.containers.0.image`). */
export function at(doc: unknown, path: string): unknown {
  let node = doc;
  for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
  return node;
}

/** A copy of `doc` with the value at `path` replaced; `undefined` deletes it. */
export function mutated(doc: Doc, path: string, value: unknown): Doc {
  const copy = structuredClone(doc);
  set(copy, path, value);
  return copy;
}

export function set(doc: Doc, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = (keys.length === 0 ? doc : at(doc, keys.join('.'))) as Record<string, unknown>;
  if (value === undefined) Reflect.deleteProperty(parent, last);
  else parent[last] = value;
}
