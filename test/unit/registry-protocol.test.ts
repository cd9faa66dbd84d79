import { describe, expect, it } from '@jest/globals';
import { apiHost, parseChallenges } from '../../src/registry/index.js';
import { chooseChallenge } from '../../src/registry/challenge.js';
import { InsecureHosts } from '../../src/registry/host.js';
import { isInternalHost, realmProblem } from '../../src/registry/realm.js';
import { backoffMs, retryAfterMs, retryDelayMs } from '../../src/registry/retry.js';
import { parseTokenResponse, TokenCache } from '../../src/registry/token.js';

describe('parseChallenges', () => {
  describe('when one header carries several challenges', () => {
    it('splits them, with quoted and unquoted parameters', () => {
      const got = parseChallenges('Basic realm="quay.io", Bearer realm="https://quay.io/v2/auth",service=quay.io,scope="repository:a/b:pull,push"');
      expect(got).toEqual([
        { scheme: 'basic', params: { realm: 'quay.io' } },
        { scheme: 'bearer', params: { realm: 'https://quay.io/v2/auth', service: 'quay.io', scope: 'repository:a/b:pull,push' } },
      ]);
    });
  });

  describe('when values hold escapes, odd spacing and case', () => {
    it('unescapes quoted strings and lower-cases scheme and names', () => {
      const got = parseChallenges('BEARER  Realm = "https://auth.example/t\\"x" ,  Service="a\\\\b"');
      expect(got).toEqual([{ scheme: 'bearer', params: { realm: 'https://auth.example/t"x', service: 'a\\b' } }]);
    });
  });

  describe('when a parameter repeats', () => {
    it('keeps the first, so a later one cannot swap the realm', () => {
      expect(parseChallenges('Bearer realm="https://a/t",realm="http://169.254.169.254/"')[0]?.params.realm).toBe('https://a/t');
    });
  });

  describe('when the header is garbage or a token68 scheme', () => {
    it('does not throw and yields no usable challenge', () => {
      for (const header of ['', ',,,', '"', 'Negotiate abc==', '=novalue', 'Bearer realm="unterminated']) {
        const challenges = parseChallenges(header);
        const chosen = chooseChallenge(challenges);
        expect(chosen === undefined || chosen.scheme === 'bearer').toBe(true);
      }
      expect(chooseChallenge(parseChallenges('Negotiate abc=='))).toBeUndefined();
    });
  });

  describe('chooseChallenge', () => {
    it('prefers Bearer with a realm, then Basic', () => {
      expect(chooseChallenge(parseChallenges('Basic realm="x", Bearer realm="https://t"'))?.scheme).toBe('bearer');
      expect(chooseChallenge(parseChallenges('Bearer service="x", Basic realm="x"'))?.scheme).toBe('basic');
    });
  });
});

describe('realm check', () => {
  const secure = new InsecureHosts([]);
  const insecure = new InsecureHosts(['10.0.0.5:5000']);

  it('treats loopback, private, link-local and mapped addresses as internal', () => {
    for (const host of ['127.0.0.1', '[::1]', 'localhost', 'a.localhost', '10.1.2.3', '172.20.0.1', '192.168.1.1',
      '169.254.169.254', '[fe80::1]', '[fd00::1]', '[::ffff:7f00:1]', '0.0.0.0']) {
      expect(isInternalHost(host)).toBe(true);
    }
    for (const host of ['8.8.8.8', 'auth.docker.io', '[2001:db8::1]', '172.32.0.1']) expect(isInternalHost(host)).toBe(false);
  });

  it('allows the public token services and the registry\'s own private host', () => {
    expect(realmProblem(new URL('https://auth.docker.io/token'), 'registry-1.docker.io', secure)).toBeUndefined();
    expect(realmProblem(new URL('https://10.0.0.5:8443/token'), '10.0.0.5:5000', secure)).toBeUndefined();
    expect(realmProblem(new URL('http://10.0.0.5:5001/token'), '10.0.0.5:5000', insecure)).toBeUndefined();
  });

  it('refuses plain HTTP for an HTTPS registry, credentials in the URL, and other private hosts', () => {
    expect(realmProblem(new URL('http://auth.example/token'), 'registry.example', secure)).toContain('plain HTTP');
    expect(realmProblem(new URL('https://u:p@auth.example/token'), 'registry.example', secure)).toContain('credentials');
    expect(realmProblem(new URL('https://10.0.0.6/token'), '10.0.0.5:5000', secure)).toContain('private or loopback');
    expect(realmProblem(new URL('https://2130706433/token'), 'registry.example', secure)).toContain('private or loopback');
  });
});

describe('apiHost', () => {
  it('sends Docker Hub to registry-1.docker.io and leaves other hosts alone', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('index.docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('localhost:5000')).toBe('localhost:5000');
  });
});

describe('retry timing', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:01 GMT', now)).toBe(1000);
    expect(retryAfterMs('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it('refuses to wait past a few seconds', () => {
    expect(retryDelayMs('1', 0)).toBe(1000);
    expect(retryDelayMs('60', 0)).toBeUndefined();
  });

  it('backs off with full jitter under an exponential ceiling', () => {
    expect(backoffMs(0, () => 0.999)).toBeLessThan(100);
    expect(backoffMs(3, () => 0.999)).toBeLessThan(800);
    expect(backoffMs(3, () => 0.999)).toBeGreaterThanOrEqual(700);
    expect(backoffMs(30, () => 0.999)).toBeLessThan(2000);
    expect(backoffMs(5, () => 0)).toBe(0);
  });
});

describe('tokens', () => {
  it('reads token or access_token, defaulting the lifetime to 60 s', () => {
    expect(parseTokenResponse(Buffer.from('{"access_token":"abc"}'), 'w')).toEqual({ token: 'abc', lifetimeMs: 60_000 });
    expect(parseTokenResponse(Buffer.from('{"token":"abc","expires_in":300}'), 'w')).toEqual({ token: 'abc', lifetimeMs: 300_000 });
  });

  it('rejects an answer without a header-safe token with REGISTRY_AUTH', () => {
    for (const body of ['{}', '{"token":""}', '{"token":"a\\r\\nX-Evil: 1"}', 'not json']) {
      expect(() => parseTokenResponse(Buffer.from(body), 'w')).toThrow(expect.objectContaining({ code: 'REGISTRY_AUTH' }));
    }
  });

  it('drops a cached token shortly before it expires', () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    cache.set('k', 'Bearer t', 60_000);
    now = 49_999;
    expect(cache.get('k')).toBe('Bearer t');
    now = 50_000;
    expect(cache.get('k')).toBeUndefined();
  });
});
