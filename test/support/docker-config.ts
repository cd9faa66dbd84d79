/**
 * Docker `config.json` files: how cosign (through go-containerregistry's keychain) and sigward
 * (`--registry-config`) both receive registry credentials.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RegistryLogin {
  readonly host: string;
  readonly username: string;
  readonly password: string;
}

/** Writes `<dir>/config.json` with one `auths` entry per login and returns the file's path. */
export function writeDockerConfig(dir: string, logins: readonly RegistryLogin[]): string {
  mkdirSync(dir, { recursive: true });
  const auths: Record<string, { auth: string }> = {};
  for (const login of logins) {
    auths[login.host] = { auth: Buffer.from(`${login.username}:${login.password}`).toString('base64') };
  }
  const file = join(dir, 'config.json');
  writeFileSync(file, `${JSON.stringify({ auths }, null, 2)}\n`, { mode: 0o600 });
  return file;
}
