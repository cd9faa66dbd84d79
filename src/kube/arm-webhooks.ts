/**
 * Arming: the chart creates sigward's webhook configurations with `failurePolicy: Ignore`, so that
 * pods can be created in the window before any sigward replica is ready (and forever, were its
 * image never pulled); once this replica is ready it sets `failurePolicy: Fail` on every webhook
 * of the configurations it is named (`--arm-webhooks NAME`), and from then on nothing unverified
 * runs when sigward cannot answer. Patched with a JSON patch that tests the current value, so a
 * concurrent edit is not overwritten; retried until done or stopped.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { apiStatus, describeKubeError, type KubeClients } from './client.js';

const RETRY_MS = 2_000;
const MAX_RETRY_MS = 30_000;
const READY_POLL_MS = 500;

interface Webhooks {
  readonly webhooks?: readonly { readonly failurePolicy?: string }[];
}

export class WebhookArmer {
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private done: Promise<void> | undefined;

  constructor(private readonly clients: KubeClients, private readonly name: string, private readonly logger: Logger) {}

  /** Arms the webhooks once `ready()` holds; resolves when they are armed or the armer stops. */
  start(ready: () => boolean): Promise<void> {
    this.done ??= this.run(ready);
    return this.done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.done?.catch(() => undefined);
  }

  private async run(ready: () => boolean): Promise<void> {
    while (!this.stopped && !ready()) await this.pause(READY_POLL_MS);
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const patched = [await this.arm('validating'), await this.arm('mutating')];
        this.logger.info('webhooks armed: failurePolicy Fail', { configuration: this.name, patched: patched.reduce((a, b) => a + b, 0) });
        return;
      } catch (err) {
        const retryInMs = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** Math.min(attempt, 4));
        this.logger.warn('cannot arm the webhooks yet; retrying', { configuration: this.name, error: describeKubeError(err), retryInMs });
        await this.pause(retryInMs);
      }
    }
  }

  /** Sets Fail on each webhook of one configuration that does not have it; how many it changed. */
  private async arm(kind: 'validating' | 'mutating'): Promise<number> {
    const api = this.clients.admission;
    let current: Webhooks;
    try {
      current = kind === 'validating'
        ? await api.readValidatingWebhookConfiguration({ name: this.name })
        : await api.readMutatingWebhookConfiguration({ name: this.name });
    } catch (err) {
      // Not created yet (raw manifests applied in another order): asked again later.
      if (apiStatus(err) === 404) throw new Error(`no ${kind} webhook configuration ${this.name} yet`, { cause: err });
      throw err;
    }
    const patch = (current.webhooks ?? []).flatMap((webhook, index) =>
      webhook.failurePolicy === 'Fail' ? [] : [
        { op: 'test', path: `/webhooks/${index}/failurePolicy`, value: webhook.failurePolicy },
        { op: 'replace', path: `/webhooks/${index}/failurePolicy`, value: 'Fail' },
      ]);
    if (patch.length === 0) return 0;
    const options = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    if (kind === 'validating') await api.patchValidatingWebhookConfiguration({ name: this.name, body: patch }, options);
    else await api.patchMutatingWebhookConfiguration({ name: this.name, body: patch }, options);
    return patch.length / 2;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }
}
