import { createServer } from 'node:http';
import type { Server } from 'node:net';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on its own plain-HTTP port, apart from the webhook: Prometheus scrapes it
 * inside the cluster, and nothing on it can admit anything.
 */
export async function startMetricsServer(metrics: Metrics, host: string, port: number, logger: Logger): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && !(req.url ?? '').startsWith('/metrics?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (error: unknown) => {
        logger.error('metrics collection failed', { error });
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  await listen(server, host, port);
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  logger.info('metrics listening', { host, port: bound });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
