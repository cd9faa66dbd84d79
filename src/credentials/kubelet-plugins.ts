/**
 * Kubelet credential provider plugins (exec protocol, credentialprovider.kubelet.k8s.io): for a
 * repository that a plugin's `matchImages` covers, the plugin is run with a
 * CredentialProviderRequest on stdin and answers with a CredentialProviderResponse on stdout.
 * Its answer is kept for `cacheDuration` (else the provider's `defaultCacheDuration`) under the
 * key its `cacheKeyType` names (the image, its registry, or every image), and never past it; a
 * duration of 0 keeps it for no one else. One run at a time per plugin and image, a few plugins
 * at once in all, each run under a timeout. A plugin that fails is run again for that registry
 * no sooner than its backoff (doubling, at most 5 minutes); the lookup goes on with the next plugin.
 */
import { SigwardError } from '../errors.js';
import { isObject } from '../registry/parse.js';
import { HostLimiter } from '../registry/semaphore.js';
import { ProgramFailure, runProgram } from './exec.js';
import { parseGoDuration, type PluginSettings } from './kubelet-config.js';
import { imageMatches, parseImagePattern, type ImagePattern } from './kubelet-match.js';
import { raceSignal } from './memo.js';
import type { Credential, CredentialProvider, CredentialQuery } from './types.js';

const MAX_OUTPUT_BYTES = 1024 * 1024;
const MAX_AUTH_ENTRIES = 64;
const MAX_ANSWERS = 1024;
const BACKOFF = { firstMs: 2_000, maxMs: 300_000 };
const CACHE_KEY_TYPES = ['Image', 'Registry', 'Global'] as const;
type CacheKeyType = (typeof CACHE_KEY_TYPES)[number];

export interface KubeletPluginOptions {
  /** Per run; the default, 5 s, leaves a review's deadline room for the registry. */
  readonly timeoutMs?: number;
  /** Plugins running at once, in all. */
  readonly maxConcurrent?: number;
  readonly now?: () => number;
  /** Told of each failed run (a message naming the plugin and the registry, never its output). */
  readonly onFailure?: (message: string) => void;
}

interface AuthEntry {
  readonly pattern: ImagePattern;
  readonly credential: Credential;
}

interface Answer {
  readonly entries: readonly AuthEntry[];
  readonly until: number;
}

interface Failure {
  readonly error: SigwardError;
  readonly until: number;
  readonly backoffMs: number;
}

export class KubeletPlugins {
  private readonly answers = new Map<string, Answer>();
  private readonly failures = new Map<string, Failure>();
  private readonly running = new Map<string, Promise<Answer>>();
  private readonly limiter: HostLimiter;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  /** Runs per plugin so far (for tests and metrics). */
  readonly runs = new Map<string, number>();

  constructor(
    private readonly plugins: readonly PluginSettings[],
    private readonly options: KubeletPluginOptions = {},
  ) {
    this.limiter = new HostLimiter(options.maxConcurrent ?? 4);
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** The first credential a matching plugin gives, in the order of the config file. */
  readonly provider: CredentialProvider = async (registry: string, query?: CredentialQuery) => {
    const image = query === undefined ? registry : `${registry}/${query.repository}`;
    const problems: SigwardError[] = [];
    for (const plugin of this.plugins) {
      if (!plugin.matchImages.some((pattern) => imageMatches(pattern, image))) continue;
      try {
        const found = await this.lookup(plugin, registry, image, query?.signal);
        if (found !== undefined) return found;
      } catch (err) {
        if (!(err instanceof SigwardError) || err.code !== 'CREDENTIALS_UNAVAILABLE') throw err;
        problems.push(err);
      }
    }
    if (problems.length === 1) throw problems[0]!;
    if (problems.length > 1) throw new SigwardError('CREDENTIALS_UNAVAILABLE', problems.map((p) => p.message).join('; '));
    return undefined;
  };

  private async lookup(plugin: PluginSettings, registry: string, image: string, signal: AbortSignal | undefined): Promise<Credential | undefined> {
    const now = this.now();
    for (const key of [`${plugin.name}|Image|${image}`, `${plugin.name}|Registry|${registry}`, `${plugin.name}|Global`]) {
      const answer = this.answers.get(key);
      if (answer === undefined) continue;
      if (answer.until > now) return pick(answer, image);
      this.answers.delete(key);
    }
    const failed = this.failures.get(`${plugin.name}|${registry}`);
    if (failed !== undefined && failed.until > now) throw failed.error;
    const flightKey = `${plugin.name}|${image}`;
    let flight = this.running.get(flightKey);
    if (flight === undefined) {
      flight = this.run(plugin, registry, image).finally(() => { this.running.delete(flightKey); });
      flight.catch(() => undefined);
      this.running.set(flightKey, flight);
    }
    const aborted = (): SigwardError => new SigwardError('DEADLINE_EXCEEDED', `the review ended while waiting for credential provider plugin ${plugin.name}`);
    return pick(await raceSignal(flight, signal, aborted), image);
  }

  private async run(plugin: PluginSettings, registry: string, image: string): Promise<Answer> {
    const failureKey = `${plugin.name}|${registry}`;
    const release = await this.limiter.acquire('plugins', undefined, () => new SigwardError('DEADLINE_EXCEEDED', 'cancelled'));
    this.runs.set(plugin.name, (this.runs.get(plugin.name) ?? 0) + 1);
    try {
      const request = JSON.stringify({ apiVersion: plugin.apiVersion, kind: 'CredentialProviderRequest', image });
      const fail = (why: string): SigwardError =>
        new SigwardError('CREDENTIALS_UNAVAILABLE', `credential provider plugin ${plugin.name} for registry ${registry}: ${why}`);
      let result;
      try {
        result = await runProgram({ file: plugin.file, args: plugin.args, stdin: request, env: plugin.env, timeoutMs: this.timeoutMs, maxOutputBytes: MAX_OUTPUT_BYTES });
      } catch (err) {
        throw fail(err instanceof ProgramFailure ? err.message : 'cannot run');
      }
      if (result.status !== 0) throw fail(`exit status ${result.status}`);
      const response = readResponse(result.stdout, plugin, plugin.name);
      if (typeof response === 'string') throw fail(response);
      this.failures.delete(failureKey);
      const ttlMs = response.cacheMs ?? plugin.defaultCacheMs;
      const answer: Answer = { entries: response.entries, until: this.now() + ttlMs };
      if (ttlMs > 0) this.remember(cacheKey(plugin.name, response.keyType, registry, image), answer);
      return answer;
    } catch (err) {
      if (err instanceof SigwardError && err.code === 'CREDENTIALS_UNAVAILABLE') {
        const previous = this.failures.get(failureKey);
        const backoffMs = previous === undefined ? BACKOFF.firstMs : Math.min(previous.backoffMs * 2, BACKOFF.maxMs);
        this.failures.delete(failureKey);
        this.failures.set(failureKey, { error: err, until: this.now() + backoffMs, backoffMs });
        trim(this.failures);
        this.options.onFailure?.(err.message);
      }
      throw err;
    } finally {
      release();
    }
  }

  private remember(key: string, answer: Answer): void {
    this.answers.delete(key);
    this.answers.set(key, answer);
    trim(this.answers);
  }
}

function cacheKey(plugin: string, type: CacheKeyType, registry: string, image: string): string {
  if (type === 'Image') return `${plugin}|Image|${image}`;
  if (type === 'Registry') return `${plugin}|Registry|${registry}`;
  return `${plugin}|Global`;
}

/** The most specific `auth` entry that matches the image, as the kubelet's keyring orders them. */
function pick(answer: Answer, image: string): Credential | undefined {
  return answer.entries.find((entry) => imageMatches(entry.pattern, image))?.credential;
}

interface Response {
  readonly keyType: CacheKeyType;
  readonly cacheMs: number | undefined;
  readonly entries: readonly AuthEntry[];
}

/** The plugin's answer, or what is wrong with it (never quoting it: it holds secrets). */
function readResponse(stdout: string, plugin: PluginSettings, source: string): Response | string {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    return 'its answer is not JSON';
  }
  if (!isObject(doc)) return 'its answer is not a JSON object';
  if (doc.kind !== 'CredentialProviderResponse') return 'its answer is not a CredentialProviderResponse';
  if (doc.apiVersion !== plugin.apiVersion) return `its answer's apiVersion is not ${plugin.apiVersion}, as asked`;
  const keyType = CACHE_KEY_TYPES.find((type) => type === doc.cacheKeyType);
  if (keyType === undefined) return `cacheKeyType: expected ${CACHE_KEY_TYPES.join(', ')}`;
  let cacheMs: number | undefined;
  if (doc.cacheDuration !== undefined && doc.cacheDuration !== null) {
    cacheMs = typeof doc.cacheDuration === 'string' ? parseGoDuration(doc.cacheDuration) : undefined;
    if (cacheMs === undefined) return 'cacheDuration: not a duration';
  }
  const auth = doc.auth ?? {};
  if (!isObject(auth)) return 'auth: not an object';
  const keys = Object.keys(auth);
  if (keys.length > MAX_AUTH_ENTRIES) return `auth: more than ${MAX_AUTH_ENTRIES} entries`;
  const entries: AuthEntry[] = [];
  for (const key of keys) {
    const value = auth[key];
    const pattern = parseImagePattern(key);
    if (typeof pattern === 'string') return `auth[${JSON.stringify(key.slice(0, 200))}]: ${pattern}`;
    if (!isObject(value)) return `auth[${JSON.stringify(key.slice(0, 200))}]: not an object`;
    const username = value.username ?? '';
    const password = value.password ?? '';
    if (typeof username !== 'string' || typeof password !== 'string') return `auth[${JSON.stringify(key.slice(0, 200))}]: username and password must be strings`;
    if (username === '' && password === '') continue;
    entries.push({ pattern, credential: { kind: 'basic', username, password, source: `credential provider plugin ${source}` } });
  }
  // Longer patterns are more specific: tried first.
  entries.sort((a, b) => b.pattern.text.length - a.pattern.text.length);
  return { keyType, cacheMs, entries };
}

function trim<V>(map: Map<string, V>): void {
  while (map.size > MAX_ANSWERS) {
    const oldest = map.keys().next();
    if (oldest.done === true) return;
    map.delete(oldest.value);
  }
}
