import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';

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
