/**
 * Namespace labels for ClusterImagePolicy namespaceSelectors, from a watched cache. A namespace
 * the cache has not seen yet gives `undefined`, which the matcher reads as "selected": a policy
 * is enforced rather than skipped for want of information.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import type { KubeClients } from './client.js';
import { Watched } from './watched.js';

export class NamespaceLabels {
  private readonly watched: Watched<V1Namespace>;

  constructor(clients: KubeClients, logger: Logger) {
    this.watched = new Watched<V1Namespace>({
      config: clients.config,
      path: '/api/v1/namespaces',
      list: () => clients.core.listNamespace(),
      what: 'Namespaces',
      logger,
    });
  }

  start(): void {
    this.watched.start();
  }

  stop(): Promise<void> {
    return this.watched.stop();
  }

  isSynced(): boolean {
    return this.watched.isSynced();
  }

  labels(namespace: string): Readonly<Record<string, string>> | undefined {
    const found = this.watched.get(namespace);
    if (found === undefined) return undefined;
    return found.metadata?.labels ?? {};
  }
}
