/**
 * The kubelet's CredentialProviderConfig file (`--image-credential-provider-config`), read as
 * the kubelet reads it: `kubelet.config.k8s.io/v1` (v1beta1 and v1alpha1 are the same shape),
 * each provider with its `name` (the binary in the plugin directory), `matchImages`,
 * `defaultCacheDuration`, the request `apiVersion`, `args` and `env`. Every problem is reported
 * at once with its field path. The service-account-token mode (`tokenAttributes`, KEP-4412) is
 * refused: sigward does not request tokens for a pod's service account.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SigwardError } from '../errors.js';
import { isObject } from '../registry/parse.js';
import { parseImagePattern, type ImagePattern } from './kubelet-match.js';

export const CONFIG_API_VERSIONS = ['kubelet.config.k8s.io/v1', 'kubelet.config.k8s.io/v1beta1', 'kubelet.config.k8s.io/v1alpha1'] as const;
export const PLUGIN_API_VERSIONS = [
  'credentialprovider.kubelet.k8s.io/v1',
  'credentialprovider.kubelet.k8s.io/v1beta1',
  'credentialprovider.kubelet.k8s.io/v1alpha1',
] as const;
const MAX_CONFIG_BYTES = 256 * 1024;
const MAX_PROVIDERS = 64;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface PluginSettings {
  readonly name: string;
  /** The binary: `<bin dir>/<name>`. */
  readonly file: string;
  readonly matchImages: readonly ImagePattern[];
  readonly defaultCacheMs: number;
  readonly apiVersion: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export function readCredentialProviderConfig(file: string, binDir: string, text: string): readonly PluginSettings[] {
  const problems: string[] = [];
  if (text.length > MAX_CONFIG_BYTES) throw new SigwardError('CONFIG_INVALID', `${file}: over ${MAX_CONFIG_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 0 });
  } catch (err) {
    throw new SigwardError('CONFIG_INVALID', `${file}: not YAML or JSON (${err instanceof Error ? err.message.split('\n', 1)[0] : 'parse error'})`);
  }
  if (!isObject(doc)) throw new SigwardError('CONFIG_INVALID', `${file}: not a CredentialProviderConfig object`);
  if (!(CONFIG_API_VERSIONS as readonly unknown[]).includes(doc.apiVersion)) {
    problems.push(`apiVersion: expected one of ${CONFIG_API_VERSIONS.join(', ')}`);
  }
  if (doc.kind !== 'CredentialProviderConfig') problems.push('kind: expected CredentialProviderConfig');
  const providers = Array.isArray(doc.providers) ? doc.providers : [];
  if (providers.length === 0) problems.push('providers: at least one provider is required');
  if (providers.length > MAX_PROVIDERS) problems.push(`providers: at most ${MAX_PROVIDERS}`);
  const settings: PluginSettings[] = [];
  const names = new Set<string>();
  providers.slice(0, MAX_PROVIDERS).forEach((entry: unknown, index) => {
    const found = readProvider(entry, `providers[${index}]`, binDir, problems);
    if (found === undefined) return;
    if (names.has(found.name)) problems.push(`providers[${index}].name: ${JSON.stringify(found.name)} is given twice`);
    names.add(found.name);
    settings.push(found);
  });
  if (problems.length > 0) throw new SigwardError('CONFIG_INVALID', `${file}: ${problems.join('; ')}`);
  return settings;
}

function readProvider(entry: unknown, at: string, binDir: string, problems: string[]): PluginSettings | undefined {
  if (!isObject(entry)) {
    problems.push(`${at}: not an object`);
    return undefined;
  }
  const before = problems.length;
  const name = typeof entry.name === 'string' ? entry.name : '';
  if (name === '' || name === '.' || name === '..' || /[/\s\\]/.test(name)) {
    problems.push(`${at}.name: required, a file name in the plugin directory`);
  } else if (!isExecutableFile(join(binDir, name))) {
    problems.push(`${at}.name: no executable ${join(binDir, name)}`);
  }
  const patterns = Array.isArray(entry.matchImages) ? entry.matchImages : [];
  if (patterns.length === 0) problems.push(`${at}.matchImages: at least one pattern is required`);
  const matchImages: ImagePattern[] = [];
  patterns.forEach((pattern: unknown, index) => {
    const parsed = typeof pattern === 'string' ? parseImagePattern(pattern) : 'not a string';
    if (typeof parsed === 'string') problems.push(`${at}.matchImages[${index}]: ${parsed}`);
    else matchImages.push(parsed);
  });
  const defaultCacheMs = typeof entry.defaultCacheDuration === 'string' ? parseGoDuration(entry.defaultCacheDuration) : undefined;
  if (defaultCacheMs === undefined) problems.push(`${at}.defaultCacheDuration: required, a duration such as 12h or 30m`);
  if (!(PLUGIN_API_VERSIONS as readonly unknown[]).includes(entry.apiVersion)) {
    problems.push(`${at}.apiVersion: expected one of ${PLUGIN_API_VERSIONS.join(', ')}`);
  }
  const args = entry.args === undefined ? [] : entry.args;
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) problems.push(`${at}.args: a list of strings`);
  const env: Record<string, string> = {};
  const envList: unknown = entry.env ?? [];
  if (!Array.isArray(envList)) problems.push(`${at}.env: a list of {name, value}`);
  else envList.forEach((pair: unknown, index) => {
    if (!isObject(pair) || typeof pair.name !== 'string' || !ENV_NAME.test(pair.name) || typeof pair.value !== 'string') {
      problems.push(`${at}.env[${index}]: needs a name (a variable name) and a string value`);
    } else env[pair.name] = pair.value;
  });
  if (entry.tokenAttributes !== undefined) {
    problems.push(`${at}.tokenAttributes: the service-account-token mode is not supported by sigward; give the plugin its own credentials (node or workload identity)`);
  }
  if (problems.length > before) return undefined;
  return {
    name,
    file: join(binDir, name),
    matchImages,
    defaultCacheMs: defaultCacheMs!,
    apiVersion: entry.apiVersion as string,
    args: args as string[],
    env: Object.freeze(env),
  };
}

function isExecutableFile(file: string): boolean {
  try {
    const stat = statSync(file);
    return stat.isFile() && (stat.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)/;

/** A Go duration (`12h`, `1h30m`, `0.5s`, `0`) in milliseconds; undefined when not one or negative. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '' || text.length > 64) return undefined;
  let rest = text;
  let total = 0;
  while (rest !== '') {
    const match = DURATION.exec(rest);
    if (match === null) return undefined;
    const unit = /(?:ns|us|µs|μs|ms|s|m|h)$/.exec(match[0])![0];
    total += Number(match[0].slice(0, -unit.length)) * UNIT_MS[unit]!;
    rest = rest.slice(match[0].length);
  }
  return Number.isFinite(total) ? Math.floor(total) : undefined;
}
