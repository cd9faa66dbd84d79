import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_HUB } from '../constants.js';
import { SigwardError } from '../errors.js';
import { isHostPort } from '../registry/host.js';
import { isObject } from '../registry/parse.js';
import { DockerHelpers } from './docker-helpers.js';
import type { Credential, CredentialProvider, StaticCredentials } from './types.js';

/*
 * Registry credentials from a Docker config file or a Kubernetes pull secret.
 *
 * Read: `auths` entries keyed by `host[:port]` or a URL such as `https://index.docker.io/v1/`,
 * each with `identitytoken` (an OAuth2 refresh token), `auth` (base64 of `user:password`), or
 * `username` and `password`. A document without `auths` is read as the older `.dockercfg` map
 * (kubernetes.io/dockercfg pull secrets).
 *
 * `credHelpers` (registry → helper) and `credsStore` (the helper for every other registry) name
 * programs, `docker-credential-<name>`, that docker and cosign run for credentials; sigward runs
 * them as they do (see docker-helpers.ts) when the caller allows it, and otherwise reports which
 * registries they cover, so that nothing is skipped without a word. A pull Secret's helpers are
 * never run (the kubelet does not run them either).
 */

const MAX_CONFIG_BYTES = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const DOCKER_HUB_NAMES = new Set<string>([DOCKER_HUB.domain, ...DOCKER_HUB.aliases]);

/** A docker config as read: static entries, and the helpers it names. */
export interface DockerConfig {
  readonly source: string;
  readonly auths: ReadonlyMap<string, Credential>;
  /** `credHelpers`, by registry host. */
  readonly helpers: ReadonlyMap<string, string>;
  /** `credsStore`: the helper for registries `credHelpers` does not name. */
  readonly store: string | undefined;
}

export interface LoadedDockerConfig {
  readonly provider: CredentialProvider;
  /** What the file's helpers cover when they are not run (`credsStore` shows as `*`); empty when run. */
  readonly unusedHelpers: readonly string[];
}

/** `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = env.DOCKER_CONFIG;
  if (dir !== undefined && dir !== '') return path.join(dir, 'config.json');
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir();
  return path.join(home, '.docker', 'config.json');
}

/** Reads a Docker config file once. A missing file means no credentials; one that cannot be
 * read or parsed is CONFIG_INVALID naming the file (never silently anonymous). With
 * `runHelpers`, its credential helpers answer for the registries they cover. */
export function loadDockerConfig(file: string, options: { readonly runHelpers: boolean }): LoadedDockerConfig {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_CONFIG_BYTES) {
      throw new SigwardError('CONFIG_INVALID', `${file}: docker config is over ${MAX_CONFIG_BYTES} bytes`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SigwardError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') return { provider: () => undefined, unusedHelpers: [] };
    throw new SigwardError('CONFIG_INVALID', `${file}: cannot read docker config (${typeof code === 'string' ? code : 'error'})`, { cause: err });
  }
  const config = parseDockerConfig(text, file);
  const fromFile = staticLookup(config);
  const helped = [...config.helpers.keys(), ...(config.store === undefined ? [] : ['*'])];
  if (!options.runHelpers || helped.length === 0) return { provider: fromFile, unusedHelpers: options.runHelpers ? [] : helped };
  const helpers = new DockerHelpers();
  const provider: CredentialProvider = async (registry, query) => {
    const host = registryHost(registry);
    if (host === undefined) return undefined;
    const helper = config.helpers.get(host) ?? config.store;
    if (helper === undefined) return fromFile(registry);
    // A helper that has nothing for the registry leaves the file's own entry, as docker does.
    return (await helpers.get(helper, host, query?.signal)) ?? fromFile(registry);
  };
  return { provider, unusedHelpers: [] };
}

/** Parses config JSON into a lookup by registry host; `source` names it in errors and in the
 * credentials. Helpers are not run (a pull Secret's config). */
export function credentialsFromDockerConfigJson(json: string, source: string): StaticCredentials {
  return staticLookup(parseDockerConfig(json, source));
}

/** Problems are listed by field path; no message quotes a value from the file, as any of them
 * may be a secret (JSON.parse's own message quotes the text, so it is dropped). */
export function parseDockerConfig(json: string, source: string): DockerConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new SigwardError('CONFIG_INVALID', `${source}: docker config is not valid JSON`);
  }
  if (!isObject(doc)) throw new SigwardError('CONFIG_INVALID', `${source}: docker config is not a JSON object`);
  const problems: string[] = [];
  const legacy = !('auths' in doc) && !('credHelpers' in doc) && !('credsStore' in doc);
  const auths = readAuths(legacy ? doc : doc.auths ?? {}, legacy, source, problems);
  const helpers = legacy ? new Map<string, string>() : readHelpers(doc.credHelpers, problems);
  let store: string | undefined;
  if (!legacy && doc.credsStore !== undefined && doc.credsStore !== '') {
    if (typeof doc.credsStore === 'string' && HELPER_NAME.test(doc.credsStore)) store = doc.credsStore;
    else problems.push('credsStore: not a helper name (letters, digits, ".", "_", "-")');
  }
  if (problems.length > 0) throw new SigwardError('CONFIG_INVALID', `${source}: ${problems.join('; ')}`);
  return { source, auths, helpers, store };
}

function readAuths(entries: unknown, legacy: boolean, source: string, problems: string[]): Map<string, Credential> {
  const byHost = new Map<string, Credential>();
  if (!isObject(entries)) {
    problems.push('auths: not an object');
    return byHost;
  }
  for (const [key, value] of Object.entries(entries)) {
    const field = `${legacy ? '' : 'auths'}[${JSON.stringify(key.slice(0, 200))}]`;
    if (!isObject(value)) {
      if (!legacy) problems.push(`${field}: not an object`);
      continue;
    }
    const host = registryHost(key);
    const credential = parseEntry(value, field, source, problems);
    if (credential === undefined) continue;
    if (host === undefined) {
      problems.push(`${field}: not a registry host`);
      continue;
    }
    // An entry written as the bare host wins over a URL form of the same host.
    if (!byHost.has(host) || key.toLowerCase() === host) byHost.set(host, credential);
  }
  return byHost;
}

function readHelpers(value: unknown, problems: string[]): Map<string, string> {
  const helpers = new Map<string, string>();
  if (value === undefined) return helpers;
  if (!isObject(value)) {
    problems.push('credHelpers: not an object');
    return helpers;
  }
  for (const [key, name] of Object.entries(value)) {
    const field = `credHelpers[${JSON.stringify(key.slice(0, 200))}]`;
    const host = registryHost(key);
    if (host === undefined) problems.push(`${field}: not a registry host`);
    else if (typeof name !== 'string' || !HELPER_NAME.test(name)) problems.push(`${field}: not a helper name (letters, digits, ".", "_", "-")`);
    else helpers.set(host, name);
  }
  return helpers;
}

function staticLookup(config: DockerConfig): StaticCredentials {
  return (registry) => {
    const host = registryHost(registry);
    return host === undefined ? undefined : config.auths.get(host);
  };
}

/** `host[:port]` of a config key: scheme and path dropped, Docker Hub's names made `docker.io`. */
export function registryHost(key: string): string | undefined {
  const host = key.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '').split('/', 1)[0] ?? '';
  if (!isHostPort(host)) return undefined;
  return DOCKER_HUB_NAMES.has(host) ? DOCKER_HUB.domain : host;
}

function parseEntry(entry: Record<string, unknown>, field: string, source: string, problems: string[]): Credential | undefined {
  const { identitytoken, auth, username, password } = entry;
  if (typeof identitytoken === 'string' && identitytoken !== '') return { kind: 'token', identityToken: identitytoken, source };
  if (typeof auth === 'string' && auth !== '') {
    const decoded = BASE64.test(auth.trim()) ? Buffer.from(auth.trim(), 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      problems.push(`${field}.auth: not base64 of user:password`);
      return undefined;
    }
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (username === undefined && password === undefined) return undefined;
  if (typeof username !== 'string' || username === '' || typeof password !== 'string') {
    problems.push(`${field}: username and password must both be strings`);
    return undefined;
  }
  return { kind: 'basic', username, password, source };
}
