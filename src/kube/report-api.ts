/**
 * Which policy report API the cluster serves, asked of the discovery API: openreports.io
 * `Report` when that CRD is installed, else wgpolicyk8s.io `PolicyReport`, else none (nothing is
 * written until one is installed; asked again at most once a minute). `--report-api` forces one.
 */
import { SigwardError } from '../errors.js';
import type { Logger } from '../log.js';
import { apiStatus, describeKubeError, type KubeClients } from './client.js';
import { REPORT_APIS } from './constants.js';
import type { ReportApiChoice } from './options.js';
import type { ReportApi } from './report-shape.js';

const RETRY_MS = 60_000;

export class ReportApiDetector {
  private found: ReportApi | undefined;
  private checkedAt = -Infinity;

  constructor(private readonly clients: KubeClients, private readonly choice: ReportApiChoice, private readonly logger: Logger) {}

  async api(): Promise<ReportApi | undefined> {
    if (this.choice !== 'auto') return this.choice;
    if (this.found !== undefined || Date.now() - this.checkedAt < RETRY_MS) return this.found;
    this.checkedAt = Date.now();
    for (const api of ['openreports', 'wgpolicyk8s'] as const) {
      if (await this.serves(api)) {
        this.found = api;
        this.logger.info('policy reports enabled', { api: `${REPORT_APIS[api].group}/${REPORT_APIS[api].version}` });
        return api;
      }
    }
    this.logger.warn('no policy report API installed (openreports.io Report or wgpolicyk8s.io PolicyReport): reports are not written');
    return undefined;
  }

  /**
   * The API to read reports from, for `sigward report`: an API server that cannot be asked, or
   * a cluster with no report API, is an error, never "no results".
   */
  async require(): Promise<ReportApi> {
    if (this.choice !== 'auto') return this.choice;
    for (const api of ['openreports', 'wgpolicyk8s'] as const) {
      const { group, version, plural } = REPORT_APIS[api];
      try {
        const list = await this.clients.custom.getAPIResources({ group, version });
        if (list.resources.some((resource) => resource.name === plural)) return api;
      } catch (err) {
        if (apiStatus(err) !== 404) throw new SigwardError('KUBE_API_ERROR', `cannot ask the API server which report API it serves: ${describeKubeError(err)}`, { cause: err });
      }
    }
    throw new SigwardError(
      'KUBE_API_ERROR',
      'this cluster serves no policy report API (openreports.io Report or wgpolicyk8s.io PolicyReport), so sigward has written no report: install one (the chart does, reports.installPolicyReportCRD)',
    );
  }

  private async serves(api: ReportApi): Promise<boolean> {
    const { group, version, plural } = REPORT_APIS[api];
    try {
      const list = await this.clients.custom.getAPIResources({ group, version });
      return list.resources.some((resource) => resource.name === plural);
    } catch (err) {
      if (apiStatus(err) !== 404) this.logger.warn('cannot ask the discovery API', { group, error: describeKubeError(err) });
      return false;
    }
  }
}
