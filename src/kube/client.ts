/**
 * The connection to the API server: a KubeConfig from `--kubeconfig FILE` / $KUBECONFIG (as
 * resolved by config.ts) or, inside a pod, from its service account (token, CA and the
 * KUBERNETES_SERVICE_* variables the kubelet sets). The only place that builds API clients.
 */
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import { SigwardError, describeError } from '../errors.js';

export interface KubeClients {
  readonly config: KubeConfig;
  readonly admission: AdmissionregistrationV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly events: EventsV1Api;
}

export function loadKubeConfig({ kubeconfig, inCluster }: { kubeconfig: string | undefined; inCluster: boolean }): KubeConfig {
  const config = new KubeConfig();
  try {
    if (kubeconfig !== undefined) {
      config.loadFromFile(kubeconfig);
    } else if (inCluster) {
      config.loadFromCluster();
    } else {
      throw new Error('no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, or run sigward in a pod');
    }
  } catch (err) {
    throw new SigwardError('CONFIG_INVALID', `kubeconfig ${kubeconfig ?? '(in-cluster)'}: ${describeError(err)}`, { cause: err });
  }
  if (config.getCurrentCluster() === null) {
    throw new SigwardError('CONFIG_INVALID', `kubeconfig ${kubeconfig ?? '(in-cluster)'}: its current context names no cluster`);
  }
  return config;
}

export function kubeClients(config: KubeConfig): KubeClients {
  return {
    config,
    admission: config.makeApiClient(AdmissionregistrationV1Api),
    core: config.makeApiClient(CoreV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    events: config.makeApiClient(EventsV1Api),
  };
}

/** The HTTP status of a failed API call or watch, when it has one. */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === 'object' && err !== null) {
    const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
    if (typeof statusCode === 'number') return statusCode;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/**
 * A one-line description of a failed API call: status and the server's own message. An
 * ApiException's message carries the whole body and every response header; neither belongs in a log.
 */
export function describeKubeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = typeof err.body === 'string' ? parseJson(err.body) : err.body;
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    return `HTTP ${err.code}${typeof message === 'string' ? `: ${message.slice(0, 300)}` : ''}`;
  }
  const status = apiStatus(err);
  // undici says only "fetch failed"; the reason (ECONNREFUSED, a TLS error) is its cause. Read by
  // shape, not instanceof: the error may come from another realm.
  const inner = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  const innerMessage = typeof inner === 'object' && inner !== null ? (inner as { message?: unknown }).message : undefined;
  const cause = typeof innerMessage === 'string' && innerMessage !== '' ? `: ${innerMessage}` : '';
  const text = `${describeError(err)}${cause}`.split('\n')[0] ?? '';
  return status === undefined ? text : `HTTP ${status}: ${text}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
