/**
 * Pull Secrets, without Kubernetes I/O (kube/ reads them): which pull secrets a pod names, what
 * a pull Secret holds, and how several are combined (the order the kubelet tries them). A
 * policy's `signaturePullSecrets` are read by the same rules.
 */
import { createHash } from 'node:crypto';
import { credentialsFromDockerConfigJson } from './docker-config.js';
import type { StaticCredentials } from './types.js';

/** The Secret types that hold a docker config, and the data key each keeps it under. */
export const PULL_SECRET_TYPES = {
  dockerConfigJson: { type: 'kubernetes.io/dockerconfigjson', key: '.dockerconfigjson' },
  dockerCfg: { type: 'kubernetes.io/dockercfg', key: '.dockercfg' },
} as const;

/** Where each kind keeps its pod spec (as src/admission/extract.ts reads the containers). */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  PodTemplate: ['template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
const MAX_PULL_SECRETS = 32;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface PodPullSecrets {
  /** The pod spec's `imagePullSecrets` names, in order (malformed entries skipped). */
  readonly names: readonly string[];
  /** `serviceAccountName` (or the deprecated `serviceAccount`), else `default`. */
  readonly serviceAccount: string;
}

/** The pull secrets named by an admitted object's pod spec; undefined for a kind without one. */
export function podPullSecrets(kind: string, object: unknown): PodPullSecrets | undefined {
  const path = Object.hasOwn(POD_SPEC_PATHS, kind) ? POD_SPEC_PATHS[kind] : undefined;
  if (path === undefined) return undefined;
  let spec: unknown = object;
  for (const segment of path) spec = isRecord(spec) ? spec[segment] : undefined;
  if (!isRecord(spec)) return undefined;
  const listed = Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets.slice(0, MAX_PULL_SECRETS) : [];
  const names = listed
    .map((entry: unknown) => (isRecord(entry) ? entry.name : undefined))
    .filter((name): name is string => typeof name === 'string' && NAME.test(name));
  const account = [spec.serviceAccountName, spec.serviceAccount].find((a): a is string => typeof a === 'string' && NAME.test(a));
  return { names: [...new Set(names)], serviceAccount: account ?? 'default' };
}

/** The fields of a Secret this module reads. */
export interface PullSecretObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

export interface PullCredential {
  readonly provider: StaticCredentials;
  /** sha256 of the type and the config text: equal credentials give equal fingerprints. */
  readonly fingerprint: string;
}

/**
 * The credentials in a `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg` Secret.
 * Another type gives undefined (the kubelet ignores it too); a malformed config throws
 * CONFIG_INVALID naming `source`, never quoting the Secret's content.
 */
export function pullSecretCredential(secret: PullSecretObject, source: string): PullCredential | undefined {
  const format = Object.values(PULL_SECRET_TYPES).find((f) => f.type === secret.type);
  const encoded = format === undefined ? undefined : secret.data?.[format.key];
  if (format === undefined || encoded === undefined) return undefined;
  return configCredential(format.type, Buffer.from(encoded, 'base64').toString('utf8'), source);
}

/** The credentials of a docker config of a pull Secret type, already decoded. */
export function configCredential(type: string, text: string, source: string): PullCredential {
  const provider = credentialsFromDockerConfigJson(text, source);
  const fingerprint = createHash('sha256').update(`${type}\n${text}`).digest('hex');
  return { provider, fingerprint };
}

/** Tries each provider in order, as the kubelet tries a pod's pull secrets. */
export function firstOf(providers: readonly StaticCredentials[]): StaticCredentials | undefined {
  if (providers.length === 0) return undefined;
  return (registry) => {
    for (const provider of providers) {
      const found = provider(registry);
      if (found !== undefined) return found;
    }
    return undefined;
  };
}

/** A short cache scope from the fingerprints of the credentials, in the order they are tried. */
export function scopeOf(fingerprints: readonly string[], prefix = 'creds'): string {
  return `${prefix}:${createHash('sha256').update(fingerprints.join('\n')).digest('hex').slice(0, 16)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
