/**
 * The `serve` and `report` flags of the cluster side, read by config.ts (the one reader of flags
 * and environment) through `kubeOptions`. Pure: no client-node import, so loading the CLI stays cheap.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SigwardError } from '../errors.js';

export const KUBE_FLAGS = {
  kubeconfig: { type: 'string' },
  'pull-secret': { type: 'string' },
  'pull-secrets-across-namespaces': { type: 'boolean' },
  'no-pull-secrets-across-namespaces': { type: 'boolean' },
  'scan-interval': { type: 'string' },
  'report-api': { type: 'string' },
  'exclude-namespace': { type: 'string', multiple: true },
  'exclude-label': { type: 'string' },
  'arm-webhooks': { type: 'string' },
} as const;

export type ReportApiChoice = 'auto' | 'openreports' | 'wgpolicyk8s';

export interface KubeOptions {
  /** `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config outside a pod; undefined means the in-cluster service account. */
  readonly kubeconfig: string | undefined;
  /** Whether the kubelet's KUBERNETES_SERVICE_HOST/PORT are set (sigward runs in a pod). */
  readonly inCluster: boolean;
  /** sigward's own namespace: $POD_NAMESPACE, else the service account's, else sigward-system. */
  readonly namespace: string;
  /** `--pull-secret NAME`: a registry credential Secret in sigward's own namespace, used for every review. */
  readonly pullSecret: string | undefined;
  /** Whether the pod's own and its service account's imagePullSecrets are read (default true). */
  readonly pullSecretsAcrossNamespaces: boolean;
  /** Background scan period in milliseconds; 0 turns the scan off. */
  readonly scanIntervalMs: number;
  readonly reportApi: ReportApiChoice;
  /**
   * What the webhook configuration excludes, so the scan leaves it alone too: `--exclude-namespace`
   * (besides kube-system and sigward's own) and the namespace label `--exclude-label KEY` (`KEY=true`).
   */
  readonly excludedNamespaces: readonly string[];
  readonly excludeLabel: string;
  /**
   * `--arm-webhooks NAME`: once ready, set failurePolicy Fail on the webhooks of the Validating-
   * and MutatingWebhookConfiguration NAME (the chart creates them with Ignore).
   */
  readonly armWebhooks: string | undefined;
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DEFAULT_SCAN = '10m';
/** The chart's `webhook.excludeLabel` default. */
export const DEFAULT_EXCLUDE_LABEL = 'sigward.dev/exclude';
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

type Env = Readonly<Record<string, string | undefined>>;

export function kubeOptions(values: Record<string, unknown>, env: Env): KubeOptions {
  const get = (flag: string): string | undefined => values[flag] as string | undefined;
  if (values['pull-secrets-across-namespaces'] === true && values['no-pull-secrets-across-namespaces'] === true) {
    throw new SigwardError('USAGE', '--pull-secrets-across-namespaces and --no-pull-secrets-across-namespaces exclude each other');
  }
  const pullSecret = get('pull-secret');
  if (pullSecret !== undefined && !SECRET_NAME.test(pullSecret)) {
    throw new SigwardError('USAGE', `--pull-secret: '${pullSecret}' is not a Secret name`);
  }
  const namespace = ownNamespace(env);
  if (!DNS_LABEL.test(namespace)) throw new SigwardError('CONFIG_INVALID', `POD_NAMESPACE: '${namespace}' is not a namespace name`);
  const inCluster = nonEmpty(env.KUBERNETES_SERVICE_HOST) !== undefined && nonEmpty(env.KUBERNETES_SERVICE_PORT) !== undefined;
  const given = get('kubeconfig') ?? nonEmpty(env.KUBECONFIG)?.split(':')[0];
  if (given !== undefined && !existsSync(given)) {
    throw new SigwardError('FILE_UNREADABLE', `--kubeconfig: ${given} does not exist`);
  }
  // As kubectl: ~/.kube/config when nothing else is named; in a pod, the service account instead.
  const home = nonEmpty(env.HOME);
  const fallback = home === undefined ? undefined : join(home, '.kube', 'config');
  const kubeconfig = given ?? (!inCluster && fallback !== undefined && existsSync(fallback) ? fallback : undefined);
  return Object.freeze({
    kubeconfig,
    inCluster,
    namespace,
    pullSecret,
    pullSecretsAcrossNamespaces: values['no-pull-secrets-across-namespaces'] !== true,
    scanIntervalMs: parseDuration(get('scan-interval') ?? DEFAULT_SCAN, 'scan-interval'),
    reportApi: reportApi(get('report-api')),
    excludedNamespaces: excludedNamespaces(values['exclude-namespace'] as string[] | undefined),
    excludeLabel: excludeLabel(get('exclude-label')),
    armWebhooks: webhookConfigurationName(get('arm-webhooks')),
  });
}

function excludedNamespaces(names: readonly string[] | undefined): readonly string[] {
  const bad = (names ?? []).filter((name) => !DNS_LABEL.test(name));
  if (bad.length > 0) throw new SigwardError('USAGE', `--exclude-namespace: ${bad.map((n) => `'${n.slice(0, 100)}'`).join(', ')} is not a namespace name`);
  return [...new Set(names ?? [])];
}

function webhookConfigurationName(name: string | undefined): string | undefined {
  if (name !== undefined && !SECRET_NAME.test(name)) throw new SigwardError('USAGE', `--arm-webhooks: '${name.slice(0, 100)}' is not a webhook configuration name`);
  return name;
}

function excludeLabel(key: string | undefined): string {
  if (key === undefined) return DEFAULT_EXCLUDE_LABEL;
  if (key.length > 317 || !LABEL_KEY.test(key)) throw new SigwardError('USAGE', `--exclude-label: '${key.slice(0, 100)}' is not a label key`);
  return key;
}

/** Cluster flags mean nothing without `--watch-crds`; given alone they are a mistake worth saying so. */
export function kubeFlagsWithoutCluster(values: Record<string, unknown>): void {
  const given = Object.keys(KUBE_FLAGS).filter((flag) => values[flag] !== undefined);
  if (given.length > 0) throw new SigwardError('USAGE', `${given.map((flag) => `--${flag}`).join(', ')}: only with --watch-crds`);
}

/**
 * A Go-style duration (`90s`, `10m`, `1h30m`, `500ms`) or `0`, in milliseconds. A bare number
 * other than 0 is refused: `--scan-interval 10` could mean seconds or minutes.
 */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * unit[match[2] as keyof typeof unit];
    end = (match.index ?? 0) + match[0].length;
  }
  if (text === '' || end !== text.length || !Number.isFinite(total)) {
    throw new SigwardError('USAGE', `--${flag}: expected a duration such as 30s, 10m or 1h (0 turns it off), got '${text}'`);
  }
  if (total > 0 && total < 1000) throw new SigwardError('USAGE', `--${flag}: at least 1s, got '${text}'`);
  if (total > 7 * 24 * 3_600_000) throw new SigwardError('USAGE', `--${flag}: at most 168h, got '${text}'`);
  return Math.round(total);
}

function reportApi(value: string | undefined): ReportApiChoice {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'openreports' || value === 'wgpolicyk8s') return value;
  throw new SigwardError('USAGE', `--report-api: expected auto|openreports|wgpolicyk8s, got '${value.slice(0, 100)}'`);
}

function ownNamespace(env: Env): string {
  const fromEnv = nonEmpty(env.POD_NAMESPACE);
  if (fromEnv !== undefined) return fromEnv;
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
  } catch {
    return 'sigward-system';
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
