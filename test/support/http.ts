/**
 * Plain HTTP(S) requests to a test registry, the way any OCI client makes them: undici with an
 * Agent that trusts only the test CA, and Basic credentials when the registry has them (the
 * Debian registry's htpasswd realm challenges with Basic, so no token exchange is needed).
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch, type Response } from 'undici';

export interface RegistryEndpoint {
  /** `127.0.0.1:PORT`, as it appears in image references. */
  readonly host: string;
  readonly scheme: 'https' | 'http';
  readonly caFile?: string;
  readonly username?: string;
  readonly password?: string;
}

const agents = new Map<string, Agent>();

function agentFor(endpoint: RegistryEndpoint): Agent {
  const key = endpoint.caFile ?? '';
  let agent = agents.get(key);
  if (agent === undefined) {
    agent = new Agent({
      connect: endpoint.caFile === undefined ? {} : { ca: readFileSync(endpoint.caFile, 'utf8') },
      keepAliveTimeout: 1000,
    });
    agents.set(key, agent);
  }
  return agent;
}

/** Closes the pooled connections (call in afterAll so jest sees no open handles). */
export async function closeRegistryAgents(): Promise<void> {
  const all = [...agents.values()];
  agents.clear();
  await Promise.all(all.map((agent) => agent.close()));
}

export interface RegistryRequest {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
  /** Send no credentials even if the registry has them (to see its challenge). */
  readonly anonymous?: boolean;
}

/** `pathOrUrl` is a path under the registry (`/v2/...`) or an absolute URL the registry returned
 * (an upload `Location`). */
export async function registryFetch(endpoint: RegistryEndpoint, pathOrUrl: string, request: RegistryRequest = {}): Promise<Response> {
  const url = new URL(pathOrUrl, `${endpoint.scheme}://${endpoint.host}`);
  const headers: Record<string, string> = { ...request.headers };
  if (!request.anonymous && endpoint.username !== undefined && endpoint.password !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password}`).toString('base64')}`;
  }
  return fetch(url, {
    method: request.method ?? 'GET',
    headers,
    body: request.body,
    dispatcher: agentFor(endpoint),
    signal: AbortSignal.timeout(15_000),
  });
}

/** Fails with the method, URL, status and body when a response is not the expected status. */
export async function expectStatus(response: Response, expected: number, what: string): Promise<Response> {
  if (response.status !== expected) {
    const body = await response.text();
    throw new Error(`${what}: HTTP ${response.status} (expected ${expected}) from ${response.url}: ${body.slice(0, 500)}`);
  }
  return response;
}
