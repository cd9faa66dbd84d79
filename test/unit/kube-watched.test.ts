/**
 * A watch of a resource the API server does not serve at all (HTTP 404: the CRD is not
 * installed) says what to install, instead of repeating "watch failed".
 */
import { describe, expect, it } from '@jest/globals';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../src/log.js';
import { Watched } from '../../src/kube/watched.js';

function config(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function firstLine(failure: Error, whenMissing: string | undefined): Promise<Record<string, unknown>> {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const watched = new Watched({
    config: config(),
    path: '/apis/sigward.dev/v1alpha1/clusterimagepolicies',
    list: () => Promise.reject(failure),
    what: 'ClusterImagePolicy objects',
    ...(whenMissing === undefined ? {} : { whenMissing }),
    logger,
  });
  watched.start();
  for (let i = 0; i < 100 && !lines.some((l) => l.level === 'warn' || l.level === 'error'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await watched.stop();
  return lines.find((l) => l.level === 'warn' || l.level === 'error') ?? {};
}

describe('Watched', () => {
  it('says which CRD to install when the API server answers 404', async () => {
    const line = await firstLine(new ApiException(404, 'Not Found', { message: 'the server could not find the requested resource' }, {}), 'the CRD clusterimagepolicies.sigward.dev is not installed; apply charts/sigward/crds/');
    expect(line).toMatchObject({ level: 'error', msg: 'ClusterImagePolicy objects are not served by the API server: the CRD clusterimagepolicies.sigward.dev is not installed; apply charts/sigward/crds/' });
  });

  it('reports other failures as a watch to restart', async () => {
    const line = await firstLine(new ApiException(500, 'boom', { message: 'etcd timeout' }, {}), 'install the CRD');
    expect(line).toMatchObject({ level: 'warn', msg: 'watch failed; restarting it' });
  });
});
