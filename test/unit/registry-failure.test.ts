import { describe, expect, it } from '@jest/globals';
import { classifyFailure } from '../../src/registry/failure.js';

// How socket-level failures become coded errors. A real unresolvable host cannot be tested
// without asking a DNS server beyond loopback, so the errors are built the way fetch reports
// them: a TypeError('fetch failed') whose cause carries the resolver's or socket's code.
const ctx = { repo: { registry: 'no-such-host.invalid:5000', repository: 'acme/app', name: 'no-such-host.invalid:5000/acme/app' }, operation: 'manifest' as const, what: 'manifest v1', signal: undefined };
const state = { timedOut: false, timeoutMs: 3000 };
const fetchFailed = (code: string, message: string) =>
  new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });

describe('classifyFailure', () => {
  describe('when the registry host does not resolve', () => {
    it.each([
      ['ENOTFOUND', 'getaddrinfo ENOTFOUND no-such-host.invalid'],
      ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN no-such-host.invalid'],
    ])('reports %s as REGISTRY_UNREACHABLE naming the host, without retrying', (code, message) => {
      const failure = classifyFailure(fetchFailed(code, message), ctx, state);
      expect(failure.error.code).toBe('REGISTRY_UNREACHABLE');
      expect(failure.error.message).toContain('no-such-host.invalid:5000');
      expect(failure.error.message).toContain(code);
      expect(failure.retryable).toBe(false);
    });
  });

  describe('when the connection is reset mid-exchange', () => {
    it('is retryable', () => {
      expect(classifyFailure(fetchFailed('ECONNRESET', 'read ECONNRESET'), ctx, state).retryable).toBe(true);
    });
  });

  describe('when the certificate does not verify', () => {
    it('reports REGISTRY_TLS naming --ca-file, without retrying', () => {
      const failure = classifyFailure(fetchFailed('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), ctx, state);
      expect(failure.error.code).toBe('REGISTRY_TLS');
      expect(failure.error.message).toContain('--ca-file');
      expect(failure.retryable).toBe(false);
    });
  });
});

describe('classifyFailure and Node\'s own CA hint', () => {
  it('drops the hint whole, leaving no fragment, and names sigward\'s flag instead', () => {
    const message = 'unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca';
    const failure = classifyFailure(fetchFailed('UNABLE_TO_VERIFY_LEAF_SIGNATURE', message), ctx, state);
    expect(failure.error.code).toBe('REGISTRY_TLS');
    expect(failure.error.message).toContain('TLS failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); trust its CA with --ca-file');
    expect(failure.error.message).not.toContain('installed locally');
  });
});
