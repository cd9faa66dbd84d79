/**
 * The one reader of flags, environment and files. Everything is validated here and returned
 * frozen; the rest of sigward never looks at process.env or argv.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SigwardError, describeError } from './errors.js';
import { parsePublicKey } from './crypto/keys.js';
import type { PublicKey } from './crypto/types.js';
import { KUBE_FLAGS, kubeFlagsWithoutCluster, kubeOptions, type KubeOptions } from './kube/options.js';
import { defaultDockerConfigPath, loadDockerConfig } from './credentials/docker-config.js';
import { readCredentialProviderConfig, type PluginSettings } from './credentials/kubelet-config.js';
import type { TracesExporter } from './tracing/tracing.js';
import type { RegistryClientOptions } from './registry/types.js';

export const REGISTRY_FLAGS = {
  'ca-file': { type: 'string', multiple: true },
  'insecure-registry': { type: 'string', multiple: true },
  'registry-config': { type: 'string' },
  timeout: { type: 'string' },
} as const;

export interface RegistryFlagValues {
  readonly 'ca-file'?: string[] | undefined;
  readonly 'insecure-registry'?: string[] | undefined;
  readonly 'registry-config'?: string | undefined;
  readonly timeout?: string | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SigwardError('FILE_UNREADABLE', `cannot read ${what} ${path}: ${describeError(err)}`, { cause: err });
  }
}

/** Reads a public key file; a file that holds no usable public key is an input error naming it. */
export function readKeyFile(path: string): PublicKey {
  const text = readTextFile(path, 'key file');
  try {
    return parsePublicKey(text);
  } catch (err) {
    throw new SigwardError('KEY_INVALID', `${path}: ${describeError(err)}`, { cause: err });
  }
}

export function parseSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) {
    throw new SigwardError('USAGE', `--${flag}: expected a number of seconds more than 0 and at most 3600, got '${value.slice(0, 100)}'`);
  }
  return seconds;
}

/** Docker config: --registry-config, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json
 * (an empty DOCKER_CONFIG or HOME counts as unset, as docker treats it). */
export function dockerConfigPath(flag: string | undefined, env: Env): { path: string; explicit: boolean } {
  if (flag !== undefined) return { path: flag, explicit: true };
  return { path: defaultDockerConfigPath(env), explicit: false };
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** The registry client's options. `helpers: 'run'` runs the docker config's credential helpers
 * (the CLI, and `serve` given --registry-config); 'list' leaves them unrun and names what they
 * would cover in `unusedHelpers`, so the caller can say so. */
export function registryOptions(
  values: RegistryFlagValues,
  env: Env,
  helpers: 'run' | 'list' = 'run',
): RegistryClientOptions & { readonly unusedHelpers: readonly string[]; readonly dockerConfig: string } {
  const insecure = values['insecure-registry'] ?? [];
  for (const host of insecure) {
    if (!HOST_PORT.test(host)) throw new SigwardError('USAGE', `--insecure-registry: '${host}' is not HOST[:PORT]`);
  }
  const caCertificates = (values['ca-file'] ?? []).map((path) => {
    const pem = readTextFile(path, 'CA file');
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new SigwardError('FILE_UNREADABLE', `--ca-file ${path}: no PEM certificate in the file`);
    }
    return pem;
  });
  const config = dockerConfigPath(values['registry-config'], env);
  if (config.explicit && !existsSync(config.path)) {
    throw new SigwardError('FILE_UNREADABLE', `--registry-config: ${config.path} does not exist`);
  }
  const loaded = loadDockerConfig(config.path, { runHelpers: helpers === 'run' });
  return Object.freeze({
    caCertificates,
    insecureRegistries: insecure.map((h) => h.toLowerCase()),
    credentials: loaded.provider,
    unusedHelpers: loaded.unusedHelpers,
    dockerConfig: config.path,
    requestTimeoutMs: parseSeconds(values.timeout, 'timeout', 10) * 1000,
  });
}

export const SERVE_FLAGS = {
  ...REGISTRY_FLAGS,
  ...KUBE_FLAGS,
  'policy-file': { type: 'string', multiple: true },
  port: { type: 'string' },
  host: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'client-ca': { type: 'string' },
  'metrics-port': { type: 'string' },
  'no-match': { type: 'string' },
  'webhook-timeout': { type: 'string' },
  'mutate-workloads': { type: 'boolean' },
  'watch-crds': { type: 'boolean' },
  'no-watch-crds': { type: 'boolean' },
  'log-level': { type: 'string' },
  'credential-provider-config': { type: 'string' },
  'credential-provider-bin-dir': { type: 'string' },
} as const;

export interface ServeConfig {
  readonly policyFiles: readonly string[];
  readonly port: number;
  readonly host: string | undefined;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** `--client-ca`: only clients with a certificate from this CA get reviews answered. */
  readonly clientCaFile: string | undefined;
  readonly metricsPort: number | null;
  readonly noMatch: 'deny' | 'warn' | 'allow';
  readonly webhookTimeoutSeconds: number;
  readonly mutateWorkloads: boolean;
  readonly watchCrds: boolean;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly registry: RegistryClientOptions;
  /** Kubelet credential provider plugins (`--credential-provider-config`), tried after pull secrets. */
  readonly credentialPlugins: readonly PluginSettings[];
  /** OpenTelemetry traces (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_*); undefined: off. */
  readonly tracing: { readonly exporter: TracesExporter; readonly serviceName: string } | undefined;
  /** Things worth a warning at start (a docker config's helpers that serve does not run). */
  readonly warnings: readonly string[];
  /** The cluster side (kubeconfig, pull secrets, scan, reports); set with --watch-crds. */
  readonly kube: KubeOptions | undefined;
}

function parsePort(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SigwardError('USAGE', `--${flag}: expected a port number, got '${value}'`);
  }
  return port;
}

function oneOf<T extends string>(value: string | undefined, flag: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new SigwardError('USAGE', `--${flag}: expected ${allowed.join('|')}, got '${value}'`);
  }
  return value as T;
}

/** Reads and checks every `serve` flag; problems are reported together. */
export function serveConfig(values: Record<string, unknown>, env: Env): ServeConfig {
  const get = (flag: string) => values[flag] as string | undefined;
  const cert = get('tls-cert');
  const key = get('tls-key');
  if ((cert === undefined) !== (key === undefined)) {
    throw new SigwardError('USAGE', '--tls-cert and --tls-key go together');
  }
  if (values['watch-crds'] === true && values['no-watch-crds'] === true) {
    throw new SigwardError('USAGE', '--watch-crds and --no-watch-crds exclude each other');
  }
  const watchCrds = values['watch-crds'] === true;
  if (!watchCrds) kubeFlagsWithoutCluster(values);
  const policyFiles = (values['policy-file'] as string[] | undefined) ?? [];
  if (policyFiles.length === 0 && !watchCrds) {
    throw new SigwardError('USAGE', 'serve needs policies: give --policy-file FILE (or --watch-crds in a cluster)');
  }
  const timeout = parseSeconds(get('webhook-timeout'), 'webhook-timeout', 10);
  if (timeout > 30) throw new SigwardError('USAGE', `--webhook-timeout: at most 30 seconds (the API server's limit), got ${timeout}`);
  const metricsPort = get('metrics-port') === 'off' ? null : parsePort(get('metrics-port'), 'metrics-port', 9090);
  // As docker: helpers are run only for a config file the admin named for sigward.
  const registry = registryOptions(values, env, get('registry-config') === undefined ? 'list' : 'run');
  const warnings = registry.unusedHelpers.length === 0 ? [] : [
    `docker config ${registry.dockerConfig} names credential helpers (for ${registry.unusedHelpers.join(', ')}); serve runs them only for a config named by --registry-config, so those registries get no credential from it`,
  ];
  return Object.freeze({
    policyFiles,
    port: parsePort(get('port'), 'port', 8443),
    host: get('host'),
    tls: cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key } : undefined,
    clientCaFile: get('client-ca'),
    metricsPort,
    noMatch: oneOf(get('no-match'), 'no-match', ['deny', 'warn', 'allow'] as const, 'deny'),
    webhookTimeoutSeconds: timeout,
    mutateWorkloads: values['mutate-workloads'] === true,
    watchCrds,
    logLevel: oneOf(get('log-level'), 'log-level', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    registry,
    credentialPlugins: credentialPlugins(get('credential-provider-config'), get('credential-provider-bin-dir')),
    tracing: tracingFromEnv(env),
    warnings,
    kube: watchCrds ? kubeOptions(values, env) : undefined,
  });
}

/** `--credential-provider-config FILE --credential-provider-bin-dir DIR`, the kubelet's own pair. */
function credentialPlugins(file: string | undefined, binDir: string | undefined): readonly PluginSettings[] {
  if (file === undefined && binDir === undefined) return [];
  if (file === undefined || binDir === undefined) {
    throw new SigwardError('USAGE', '--credential-provider-config and --credential-provider-bin-dir go together');
  }
  return readCredentialProviderConfig(file, binDir, readTextFile(file, 'credential provider config'));
}

/**
 * Traces are off unless asked for with the standard variables: OTEL_TRACES_EXPORTER=otlp|console,
 * or an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) with no
 * exporter named. OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn them off.
 */
export function tracingFromEnv(env: Env): { exporter: TracesExporter; serviceName: string } | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const named = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  const endpoint = [env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_EXPORTER_OTLP_ENDPOINT].some((v) => v !== undefined && v !== '');
  const serviceName = env.OTEL_SERVICE_NAME !== undefined && env.OTEL_SERVICE_NAME !== '' ? env.OTEL_SERVICE_NAME : 'sigward';
  if (named === undefined || named === '') return endpoint ? { exporter: 'otlp', serviceName } : undefined;
  if (named === 'none') return undefined;
  if (named === 'otlp' || named === 'console') return { exporter: named, serviceName };
  throw new SigwardError('CONFIG_INVALID', `OTEL_TRACES_EXPORTER: expected otlp, console or none, got '${named.slice(0, 50)}'`);
}
