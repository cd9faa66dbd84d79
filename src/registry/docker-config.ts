import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKER_HUB } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Credential, CredentialProvider } from './types.js';
import { isHostPort } from './host.js';
import { isObject } from './parse.js';

/*
 * Registry credentials from a Docker config file or a Kubernetes pull secret.
 *
 * Read: `auths` entries keyed by `host[:port]` or a URL such as `https://index.docker.io/v1/`,
 * each with `identitytoken` (an OAuth2 refresh token), `auth` (base64 of `user:password`), or
 * `username` and `password`. A document without `auths` is read as the older `.dockercfg` map
 * (kubernetes.io/dockercfg pull secrets).
 *
 * Not supported: `credsStore` and `credHelpers` name programs to run for credentials; sigward
 * runs no external programs, so they are skipped without a warning and the registries they
 * cover get no credential from this file (an entry's empty `{}` placeholder is skipped too).
 */

const MAX_CONFIG_BYTES = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DOCKER_HUB_NAMES = new Set<string>([DOCKER_HUB.domain, ...DOCKER_HUB.aliases]);

/** `$DOCKER_CONFIG/config.json` when DOCKER_CONFIG is set, else `~/.docker/config.json`. */
export function defaultDockerConfigPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = env.DOCKER_CONFIG;
  if (dir !== undefined && dir !== '') return path.join(dir, 'config.json');
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : os.homedir();
  return path.join(home, '.docker', 'config.json');
}

/** Reads a Docker config file once. A missing file means no credentials; one that cannot be
 * read or parsed is CONFIG_INVALID naming the file (never silently anonymous). */
export function loadDockerConfig(file: string): CredentialProvider {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_CONFIG_BYTES) {
      throw new SigwardError('CONFIG_INVALID', `${file}: docker config is over ${MAX_CONFIG_BYTES} bytes`);
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof SigwardError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') return () => undefined;
    throw new SigwardError('CONFIG_INVALID', `${file}: cannot read docker config (${typeof code === 'string' ? code : 'error'})`, { cause: err });
  }
  return credentialsFromDockerConfigJson(text, file);
}

/** Parses config JSON into a lookup by registry host; `source` names it in errors and in the
 * credentials. Problems are listed by field path; no message quotes a value from the file, as
 * any of them may be a secret (JSON.parse's own message quotes the text, so it is dropped). */
export function credentialsFromDockerConfigJson(json: string, source: string): CredentialProvider {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new SigwardError('CONFIG_INVALID', `${source}: docker config is not valid JSON`);
  }
  if (!isObject(doc)) throw new SigwardError('CONFIG_INVALID', `${source}: docker config is not a JSON object`);
  const problems: string[] = [];
  const legacy = !('auths' in doc);
  const entries = legacy ? doc : doc.auths;
  const byHost = new Map<string, Credential>();
  if (!isObject(entries)) {
    problems.push('auths: not an object');
  } else {
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
  }
  if (problems.length > 0) throw new SigwardError('CONFIG_INVALID', `${source}: ${problems.join('; ')}`);
  return (registry) => {
    const host = registryHost(registry);
    return host === undefined ? undefined : byHost.get(host);
  };
}

/** `host[:port]` of a config key: scheme and path dropped, Docker Hub's names made `docker.io`. */
function registryHost(key: string): string | undefined {
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
