import { SigwardError } from '../errors.js';
import { KUBE_FLAGS, kubeOptions } from '../kube/options.js';
import { formatResults } from '../kube/report-table.js';
import { createLogger } from '../log.js';
import { parse, type Io } from './args.js';


export const REPORT_FLAGS = {
  kubeconfig: KUBE_FLAGS.kubeconfig,
  'report-api': KUBE_FLAGS['report-api'],
  namespace: { type: 'string' },
} as const;

/**
 * `sigward report`: the policy reports sigward keeps in the cluster, summed up per namespace and
 * policy, then every failing pod and image with its reason: what enforce would deny. Exits 0
 * when the reports could be read, whatever they say; 1 when the API server could not be asked
 * or serves no report API (KUBE_API_ERROR), so an empty answer always means "asked, nothing found".
 */
export async function reportCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, REPORT_FLAGS);
  if (positionals.length > 0) throw new SigwardError('USAGE', `report takes no arguments, got '${positionals.join(' ')}'`);
  const options = kubeOptions(values, io.env);
  const namespace = values.namespace as string | undefined;
  // Loaded on use: the other commands need no Kubernetes client.
  const { readReports } = await import('../kube/index.js');
  const results = await readReports(options, namespace, createLogger({ level: 'warn' }));
  io.stdout(formatResults(results));
  return 0;
}
