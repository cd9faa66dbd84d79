import type { Tracing } from '../tracing/tracing.js';
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { ADMISSION_LIMITS } from '../admission/constants.js';
import type { ImageEvaluator } from '../admission/types.js';
import { SigwardError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { createApp, type ServerState } from './app.js';
import { deadlinePolicy } from './deadline.js';
import { listen, startMetricsServer, type MetricsListener } from './metrics-server.js';
import { Metrics } from './metrics.js';
import { generateSelfSigned } from './self-signed.js';
import { sigwardVersion } from '../version.js';
import { loadClientCa, loadTlsFiles, secureContextOptions, watchTlsFiles, type TlsFiles, type TlsPair } from './tls.js';

export interface ServerOptions {
  readonly evaluator: ImageEvaluator;
  readonly logger?: Logger;
  /** Shared with the verifier and caches so they can record into it. Default: a new one. */
  readonly metrics?: Metrics;
  /** Default 0.0.0.0, port 8443. */
  readonly host?: string;
  readonly port?: number;
  /** Certificate and key files, reloaded when they change; absent → a self-signed pair. */
  readonly tls?: TlsFiles;
  /**
   * `--client-ca`: PEM of the CA(s) whose client certificates may send reviews (the API server's,
   * set up with an AdmissionConfiguration). Without it any client that reaches the port is answered.
   */
  readonly clientCaFile?: string;
  readonly tlsReloadIntervalMs?: number;
  /** Default 9090; `null` serves no metrics. */
  readonly metricsPort?: number | null;
  readonly metricsHost?: string;
  /** `--webhook-timeout`, the webhook configuration's timeoutSeconds (at most 30). Default 10. */
  readonly webhookTimeoutSeconds?: number;
  readonly maxBodyBytes?: number;
  readonly maxImages?: number;
  /** `--mutate-workloads`: /mutate also pins workload templates. */
  readonly mutateWorkloads?: boolean;
  /** A span per review (off by default). */
  readonly tracing?: Tracing;
  /** How long `close()` waits for in-flight reviews. Default: the webhook timeout. */
  readonly shutdownTimeoutMs?: number;
}

export interface RunningServer {
  readonly port: number;
  readonly metricsPort: number | undefined;
  /** The PEM certificate served at start (a caBundle for local runs when self-signed). */
  readonly certificate: string;
  readonly selfSigned: boolean;
  readonly metrics: Metrics;
  /** Stops accepting, waits (bounded) for in-flight reviews, then closes every connection. */
  close(): Promise<void>;
}

/** Starts the HTTPS webhook (never plain HTTP) and, apart from it, the metrics listener. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? new Metrics();
  const timeoutSeconds = options.webhookTimeoutSeconds ?? 10;
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 30)) {
    throw new SigwardError('CONFIG_INVALID', `webhook timeout ${timeoutSeconds}s: must be more than 0 and at most 30 seconds`);
  }
  const deadline = deadlinePolicy(timeoutSeconds);
  const pair = await initialPair(options.tls, logger);
  const clientCa = options.clientCaFile === undefined ? undefined : await loadClientCa(options.clientCaFile);
  const state: ServerState = { closing: false, inFlight: 0, onIdle: undefined };
  const app = createApp({
    settings: {
      evaluator: options.evaluator,
      maxImages: options.maxImages ?? ADMISSION_LIMITS.maxImages,
      deadline,
      mutateWorkloads: options.mutateWorkloads ?? false,
    },
    metrics,
    logger,
    maxBodyBytes: options.maxBodyBytes ?? ADMISSION_LIMITS.maxBodyBytes,
    state,
    clientCertificates: clientCa !== undefined,
    ...(options.tracing === undefined ? {} : { tracing: options.tracing }),
  });
  // A request must arrive whole soon after the webhook timeout; slow senders are cut off.
  const requestTimeout = timeoutSeconds * 1000 + 5000;
  // With a client CA a certificate is asked for but not required at the handshake: the kubelet's
  // probes of /healthz and /readyz present none. The review routes refuse a client without one.
  const clientAuth = clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: false };
  const server = createHttpsServer(
    { ...secureContextOptions(pair, clientCa), ...clientAuth, requestTimeout, headersTimeout: Math.min(10_000, requestTimeout) },
    app,
  );
  const stopWatching =
    options.tls === undefined
      ? () => undefined
      : watchTlsFiles(options.tls, {
          intervalMs: options.tlsReloadIntervalMs ?? 5000,
          logger,
          apply: (next) => {
            server.setSecureContext(secureContextOptions(next, clientCa));
          },
        });
  let metricsListener: MetricsListener | undefined;
  try {
    await listen(server, options.host ?? '0.0.0.0', options.port ?? 8443);
    if (options.metricsPort !== null) {
      metricsListener = await startMetricsServer(metrics, options.metricsHost ?? '0.0.0.0', options.metricsPort ?? 9090, logger);
    }
  } catch (error) {
    stopWatching();
    server.close();
    throw new SigwardError('CONFIG_INVALID', `cannot listen: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const port = boundPort(server);
  logger.info('webhook listening', { version: sigwardVersion(), host: options.host ?? '0.0.0.0', port, selfSigned: options.tls === undefined });
  const shutdownMs = options.shutdownTimeoutMs ?? timeoutSeconds * 1000;
  let closing: Promise<void> | undefined;
  return {
    port,
    metricsPort: metricsListener?.port,
    certificate: pair.cert,
    selfSigned: options.tls === undefined,
    metrics,
    close: () => {
      closing ??= shutdown(server, state, shutdownMs, logger, async () => {
        stopWatching();
        await metricsListener?.close();
      });
      return closing;
    },
  };
}

async function initialPair(files: TlsFiles | undefined, logger: Logger): Promise<TlsPair> {
  if (files !== undefined) return loadTlsFiles(files);
  const pair = await generateSelfSigned();
  const fingerprint = new X509Certificate(pair.cert).fingerprint256;
  logger.warn('no --tls-cert/--tls-key given: serving a self-signed certificate made at start (local use only)', { fingerprint });
  return pair;
}

/**
 * Graceful shutdown: refuse new connections and say so on /readyz, let reviews in flight be
 * answered (the API server is waiting for them), then drop idle keep-alive connections.
 */
async function shutdown(server: Server, state: ServerState, timeoutMs: number, logger: Logger, after: () => Promise<void>): Promise<void> {
  state.closing = true;
  const closed = new Promise<void>((resolve) => server.close(() => { resolve(); }));
  server.closeIdleConnections();
  if (state.inFlight > 0) {
    logger.info('waiting for reviews in flight', { inFlight: state.inFlight });
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => { state.onIdle = resolve; });
    const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([idle, waited]);
    clearTimeout(timer);
    if (state.inFlight > 0) logger.warn('shutdown timeout: closing with reviews in flight', { inFlight: state.inFlight });
  }
  server.closeAllConnections();
  await closed;
  await after();
  logger.info('webhook stopped');
}

function boundPort(server: Server): number {
  const address = server.address();
  if (typeof address === 'object' && address !== null) return address.port;
  throw new SigwardError('INTERNAL', 'the webhook server has no port');
}
