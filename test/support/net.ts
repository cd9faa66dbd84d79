import type { Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback port that was free a moment ago; whoever binds it next may lose a race, and retries. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

/** Binds a test server to an OS-chosen loopback port; resolves with its `127.0.0.1:PORT`. */
export async function listenLoopback(server: Server | HttpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

/** Closes a test server if there is one. */
export function closeServer(server: Server | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (server === undefined) resolve();
    else server.close(() => { resolve(); });
  });
}

export interface DelayProxy {
  /** `127.0.0.1:PORT`: connect here instead of the target. */
  readonly host: string;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `target` (`HOST:PORT`) that holds every chunk the target sends for `delayMs`
 * before passing it on, in order; what the client sends goes through at once. TLS passes through
 * untouched. It makes each answer of a loopback server take a known minimum time, so that a test
 * about requests overlapping does not depend on how fast the machine is.
 */
export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => { sockets.delete(socket); });
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      setTimeout(() => {
        client.write(chunk);
        upstream.resume();
      }, delayMs);
    });
  });
  const host = await listenLoopback(server);
  return {
    host,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
