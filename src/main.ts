/**
 * Composition root of `sigward serve`: config → logger → policies → caches → registry →
 * verifier → evaluator → server. Nothing else constructs these pieces.
 */
import { TtlCache } from './cache/ttl-cache.js';
import { KubeletPlugins } from './credentials/kubelet-plugins.js';
import type { ServeConfig } from './config.js';
import { isSigwardError } from './errors.js';
import type { KubeSide } from './kube/index.js';
import type { Logger } from './log.js';
import { loadPolicyFiles, namedRegistries, type CompiledPolicy } from './policy/index.js';
import { RegistryClient } from './registry/index.js';
import { Metrics } from './server/metrics.js';
import { NO_TRACING, type Tracing } from './tracing/tracing.js';
import { startServer, type RunningServer } from './server/server.js';
import type { Discovery } from './verify/discover.js';
import { Evaluator, scopedKey, type EvaluatorOptions, type PolicySource } from './verify/evaluator.js';
import type { AuthorityVerdict, VerificationPhase } from './verify/types.js';
import { CheckCache } from './verify/check-cache.js';
import { discoverySize, verdictsSize } from './verify/sizes.js';
import { Verifier, type Memo } from './verify/verifier.js';

/** Cache sizes and lifetimes. Tags move, so tag → digest lives briefly; verdicts are keyed by digest. */
export const CACHE_SETTINGS = {
  digests: { max: 10_000, ttlMs: 30_000 },
  // Discoveries hold signature payloads and bundles from registries; verdicts the verified
  // payloads: both are bounded by bytes as well as by count (the chart's memory limit is 512 Mi).
  discoveries: { max: 10_000, ttlMs: 300_000, maxBytes: 64 * 1024 * 1024 },
  verdicts: { max: 20_000, ttlMs: 300_000, maxBytes: 32 * 1024 * 1024 },
  /** Outcomes of single signature checks: a replayed review of bad signatures costs no CPU. */
  checks: { max: 50_000, maxBytes: 32 * 1024 * 1024 },
  /** A failed verification is kept briefly: a newly signed image is admitted soon after. */
  failureTtlMs: 10_000,
} as const;

/**
 * The metric label for a registry: its name when some policy names it, else `other`, so the
 * number of series stays bounded by the policies, not by the references pods make up.
 */
function policyRegistryLabel(source: PolicySource): (registry: string) => string {
  let seen: readonly CompiledPolicy[] | undefined;
  let named: ReadonlySet<string> = new Set();
  return (registry) => {
    const policies = source.policies();
    if (policies !== seen) {
      seen = policies;
      named = namedRegistries(policies);
    }
    return named.has(registry) ? registry : 'other';
  };
}

export interface Sigward {
  readonly server: RunningServer;
  readonly evaluator: Evaluator;
  close(): Promise<void>;
}

export async function startSigward(config: ServeConfig, logger: Logger): Promise<Sigward> {
  const policies = await loadPolicyFiles(config.policyFiles);
  logger.info('policies loaded', { count: policies.length, files: config.policyFiles });
  // In a cluster, the custom resources' policies apply together with the files' (AND).
  const kube: KubeSide | undefined = config.kube === undefined
    ? undefined
    : (await import('./kube/index.js')).startKube(config.kube, policies, logger);
  const source: PolicySource = kube?.policies ?? { policies: () => policies, ready: () => true };

  const metrics = new Metrics();
  const tracing: Tracing = config.tracing === undefined
    ? NO_TRACING
    : (await import('./tracing/otel.js')).startTracing({ exporter: config.tracing.exporter, serviceName: config.tracing.serviceName });
  if (tracing.enabled) logger.info('tracing on', { exporter: config.tracing?.exporter });
  const registryLabel = policyRegistryLabel(source);
  for (const warning of config.warnings) logger.warn(warning);
  const plugins = config.credentialPlugins.length === 0 ? undefined : new KubeletPlugins(config.credentialPlugins, {
    onFailure: (message) => { logger.warn('credential provider plugin failed; going on without its credentials', { error: message }); },
  });
  if (plugins !== undefined) logger.info('credential provider plugins', { plugins: config.credentialPlugins.map((p) => p.name) });
  const ownCredentials = [...(plugins === undefined ? [] : [plugins.provider]), ...(config.registry.credentials === undefined ? [] : [config.registry.credentials].flat())];
  const registry = new RegistryClient({
    ...config.registry,
    credentials: ownCredentials,
    onRequest: (event) => { metrics.recordRegistry({ ...event, registry: registryLabel(event.registry) }); },
  });
  const cache = <V extends object | string>(
    name: string,
    settings: { max: number; ttlMs: number; maxBytes?: number },
    ttlOf?: (value: V) => number,
    sizeOf?: (value: V) => number,
  ) =>
    new TtlCache<string, V>({
      ...settings,
      ...(sizeOf ? { sizeOf } : {}),
      ...(ttlOf ? { ttlOf } : {}),
      failureTtlMs: CACHE_SETTINGS.failureTtlMs,
      // A registry that answered "not found" or "not allowed" is remembered briefly; a timeout is not.
      isCacheableFailure: (err) => isSigwardError(err) && ['MANIFEST_UNKNOWN', 'REGISTRY_DENIED'].includes(err.code),
      onLookup: (result) => { metrics.recordCache(name, result); },
    });
  const digests = cache<string>('digest', CACHE_SETTINGS.digests);
  // No signatures yet, or a verdict that failed, is kept briefly: an image signed after a denied
  // rollout is admitted on the next try rather than minutes later.
  const discoveries = cache<Discovery>('signatures', CACHE_SETTINGS.discoveries, (d) =>
    d.candidates.length === 0 ? CACHE_SETTINGS.failureTtlMs : CACHE_SETTINGS.discoveries.ttlMs, discoverySize);
  const verdicts = cache<readonly AuthorityVerdict[]>('verdict', CACHE_SETTINGS.verdicts, (v) =>
    v.every((verdict) => verdict.verified) ? CACHE_SETTINGS.verdicts.ttlMs : CACHE_SETTINGS.failureTtlMs, verdictsSize);
  const checks = new CheckCache(CACHE_SETTINGS.checks);
  const onVerification = (result: 'verified' | 'failed'): void => { metrics.recordVerification(result); };
  const onPhase = (phase: VerificationPhase, seconds: number): void => {
    metrics.recordPhase(phase, seconds);
    tracing.phase(phase, seconds);
  };
  // A load shared by several reviews runs under its own signal, for as long as the API server waits.
  const loadBudgetMs = config.webhookTimeoutSeconds * 1000;
  const verifier = new Verifier({ registry, digests, discoveries, checks, loadBudgetMs, onVerification, onPhase });
  // Reviews with the pod's own pull secrets share the caches, under keys of their credential scope.
  const scoped = <V>(memo: Memo<V>, scope: string): Memo<V> => ({ getOrLoad: (key, load) => memo.getOrLoad(scopedKey(scope, key), load) });
  const cluster: Partial<EvaluatorOptions> = kube === undefined ? {} : {
    onDecided: kube.auditor.onDecided,
    exemptions: () => kube.exemptions.exemptions(),
    onExempted: (request, decided, exemption) => {
      metrics.recordExemption(exemption.name);
      logger.warn('image admitted by an exemption', { exemption: exemption.name, image: decided.image, digest: decided.digest, namespace: request.namespace });
    },
    ...(kube.credentials === undefined ? {} : {
      credentials: kube.credentials,
      scopedVerifier: (scope: string) => new Verifier({ registry, digests: scoped(digests, scope), discoveries: scoped(discoveries, scope), checks, loadBudgetMs, onVerification, onPhase }),
    }),
  };
  const evaluator = new Evaluator({ verifier, policies: source, noMatch: config.noMatch, digests, verdicts, loadBudgetMs, onPhase, ...cluster });

  const server = await startServer({
    evaluator,
    logger,
    metrics,
    port: config.port,
    metricsPort: config.metricsPort,
    ...(config.host !== undefined ? { host: config.host, metricsHost: config.host } : {}),
    ...(config.tls ? { tls: config.tls } : {}),
    ...(config.clientCaFile !== undefined ? { clientCaFile: config.clientCaFile } : {}),
    webhookTimeoutSeconds: config.webhookTimeoutSeconds,
    mutateWorkloads: config.mutateWorkloads,
    tracing,
  }).catch(async (err: unknown) => {
    await kube?.stop();
    await tracing.shutdown();
    throw err;
  });
  kube?.startScan(evaluator);
  // Listening, and armed once the policies are synced: from then on the webhooks fail closed.
  kube?.armWebhooks(() => evaluator.ready());
  logger.info('sigward serving', { port: server.port, metricsPort: server.metricsPort, selfSigned: server.selfSigned });
  const close = async (): Promise<void> => {
    await server.close();
    await kube?.stop();
    await tracing.shutdown();
  };
  return { server, evaluator, close };
}
