import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { SigwardError, describeError } from '../errors.js';
import type { Logger } from '../log.js';

/** A PEM certificate (chain) and its private key. */
export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * TLS 1.2 is the floor: the API server speaks 1.2 and 1.3, and older versions have no
 * cipher suites left that are safe to offer.
 */
export function secureContextOptions(pair: TlsPair, clientCa?: string): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2', ...(clientCa !== undefined ? { ca: clientCa } : {}) };
}

/**
 * Reads `--client-ca`: the PEM CA(s) whose client certificates may send reviews. Every block must
 * parse, and at least one must be a CA: a file that trusts nothing would refuse the API server
 * itself, and one that does not parse would only show up as refused reviews.
 */
export async function loadClientCa(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (cause) {
    throw new SigwardError('FILE_UNREADABLE', `--client-ca: cannot read ${file}: ${describeError(cause)}`, { cause });
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new SigwardError('CONFIG_INVALID', `--client-ca: ${file} holds no PEM certificate`);
  let cas = 0;
  for (const [index, block] of blocks.entries()) {
    try {
      if (new X509Certificate(block).ca) cas++;
    } catch (cause) {
      throw new SigwardError('CONFIG_INVALID', `--client-ca: certificate ${index + 1} of ${file} does not parse`, { cause });
    }
  }
  if (cas === 0) throw new SigwardError('CONFIG_INVALID', `--client-ca: ${file} holds no CA certificate (basicConstraints CA:TRUE)`);
  return pem;
}

/** Reads both files and proves the key belongs to the certificate before serving with them. */
export async function loadTlsFiles(files: TlsFiles): Promise<TlsPair> {
  const read = async (path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (cause) {
      throw new SigwardError('FILE_UNREADABLE', `cannot read ${path}: ${describeError(cause)}`, { cause });
    }
  };
  const pair = { cert: await read(files.certFile), key: await read(files.keyFile) };
  try {
    // OpenSSL checks that the key matches the certificate here ("key values mismatch").
    createSecureContext(secureContextOptions(pair));
  } catch (cause) {
    throw new SigwardError('CONFIG_INVALID', `${files.certFile} and ${files.keyFile} are not a usable certificate and key: ${describeError(cause)}`, { cause });
  }
  return pair;
}

export interface TlsWatchOptions {
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Receives each new, checked pair (the server calls `setSecureContext`). */
  readonly apply: (pair: TlsPair) => void;
}

/**
 * Reloads the pair when either file changes (cert-manager and Secret volumes rotate them in
 * place). A half-written rotation (new certificate, old key) fails the check and is retried on
 * the next change, while the old pair keeps serving. Polling with `watchFile` follows the
 * symlink swap Kubernetes uses for Secret volumes, which `fs.watch` misses.
 */
export function watchTlsFiles(files: TlsFiles, options: TlsWatchOptions): () => void {
  let reloading = Promise.resolve();
  const onChange = (): void => {
    reloading = reloading.then(async () => {
      try {
        const pair = await loadTlsFiles(files);
        options.apply(pair);
        options.logger.info('reloaded TLS certificate', { certFile: files.certFile });
      } catch (error) {
        options.logger.warn('TLS files changed but cannot be used yet; keeping the current pair', { error });
      }
    });
  };
  const watchOptions = { interval: options.intervalMs, persistent: false };
  watchFile(files.certFile, watchOptions, onChange);
  watchFile(files.keyFile, watchOptions, onChange);
  return () => {
    unwatchFile(files.certFile, onChange);
    unwatchFile(files.keyFile, onChange);
  };
}
