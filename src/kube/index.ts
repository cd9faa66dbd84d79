/**
 * The cluster side of `sigward serve --watch-crds`, assembled: policies and their key Secrets,
 * namespace labels, per-review pull secrets, and the audit records (reports, Events, scan).
 * The only module that imports @kubernetes/client-node is this folder.
 */
import { hostname } from 'node:os';
import type { ImageEvaluator } from '../admission/types.js';
import { SigwardError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CompiledPolicy } from '../policy/index.js';
import { WebhookArmer } from './arm-webhooks.js';
import { Auditor } from './audit.js';
import { describeKubeError, kubeClients, loadKubeConfig } from './client.js';
import { EventRecorder } from './events.js';
import { KubeExemptions } from './exemptions.js';
import { NamespaceLabels } from './namespaces.js';
import type { KubeOptions } from './options.js';
import { KubePolicySource } from './policies.js';
import { PullSecrets } from './pull-secrets.js';
import { ReportApiDetector } from './report-api.js';
import { readResults, type ReadResult } from './report-table.js';
import { ReportWriter } from './reports.js';
import { REPORT, REPORT_APIS } from './constants.js';
import { PodScanner } from './scan.js';
import { SecretKeys } from './secrets.js';

export interface KubeSide {
  readonly policies: KubePolicySource;
  readonly credentials: PullSecrets | undefined;
  readonly auditor: Auditor;
  readonly exemptions: KubeExemptions;
  /** Starts the background scan (when `--scan-interval` is not 0) with the evaluator it re-runs. */
  startScan(evaluator: ImageEvaluator): PodScanner;
  /** With `--arm-webhooks`: sets the webhooks to Fail once `ready()` holds (see WebhookArmer). */
  armWebhooks(ready: () => boolean): void;
  stop(): Promise<void>;
}

export function startKube(options: KubeOptions, filePolicies: readonly CompiledPolicy[], logger: Logger): KubeSide {
  const log = logger.child({ component: 'kube' });
  const clients = kubeClients(loadKubeConfig(options));
  const secrets = new SecretKeys({ clients, logger: log });
  const namespaces = new NamespaceLabels(clients, log);
  const policies = new KubePolicySource({ clients, secrets, namespaces, ownNamespace: options.namespace, filePolicies, logger: log });
  const credentials = options.pullSecretsAcrossNamespaces || options.pullSecret !== undefined
    ? new PullSecrets({ clients, ownNamespace: options.namespace, globalSecret: options.pullSecret, acrossNamespaces: options.pullSecretsAcrossNamespaces, logger: log })
    : undefined;
  const writer = new ReportWriter(clients, new ReportApiDetector(clients, options.reportApi, log), log);
  const auditor = new Auditor(writer, new EventRecorder(clients, hostname(), log));
  const exemptions = new KubeExemptions(clients, log);
  namespaces.start();
  policies.start();
  exemptions.start();
  let scanner: PodScanner | undefined;
  const armer = options.armWebhooks === undefined ? undefined : new WebhookArmer(clients, options.armWebhooks, log);
  return {
    policies,
    credentials,
    auditor,
    exemptions,
    startScan: (evaluator) => {
      scanner = new PodScanner({
        clients,
        evaluator,
        auditor,
        writer,
        intervalMs: options.scanIntervalMs,
        ownNamespace: options.namespace,
        excludedNamespaces: options.excludedNamespaces,
        excludeLabel: options.excludeLabel,
        namespaceLabels: (namespace) => namespaces.labels(namespace),
        logger: log,
      });
      scanner.start();
      return scanner;
    },
    armWebhooks: (ready) => { void armer?.start(ready); },
    stop: async () => {
      await armer?.stop();
      await scanner?.stop();
      await Promise.all([policies.stop(), namespaces.stop(), secrets.stop(), exemptions.stop()]);
      await writer.flush();
    },
  };
}

/**
 * The results of the reports sigward wrote (in one namespace, or all). Throws KUBE_API_ERROR when
 * the API server cannot be asked or serves no report API: "no results" is said only when it was asked.
 */
export async function readReports(options: KubeOptions, namespace: string | undefined, logger: Logger): Promise<ReadResult[]> {
  const clients = kubeClients(loadKubeConfig(options));
  const api = await new ReportApiDetector(clients, options.reportApi, logger).require();
  const { group, version, plural } = REPORT_APIS[api];
  const labelSelector = Object.entries(REPORT.labels).map(([key, value]) => `${key}=${value}`).join(',');
  let list: { items?: unknown };
  try {
    list = (namespace === undefined
      ? await clients.custom.listCustomObjectForAllNamespaces({ group, version, resourcePlural: plural, labelSelector })
      : await clients.custom.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector })) as { items?: unknown };
  } catch (err) {
    throw new SigwardError('KUBE_API_ERROR', `cannot list ${REPORT_APIS[api].kind} objects: ${describeKubeError(err)}`, { cause: err });
  }
  return readResults(Array.isArray(list.items) ? (list.items as unknown[]) : []);
}
