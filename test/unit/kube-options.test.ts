import { describe, expect, it } from '@jest/globals';
import { Backoff } from '../../src/kube/backoff.js';
import { kubeFlagsWithoutCluster, kubeOptions, parseDuration } from '../../src/kube/options.js';
import { isSigwardError } from '../../src/errors.js';

const ENV = { POD_NAMESPACE: 'sigward-system' };

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isSigwardError(err)) return err.code;
    throw err;
  }
  throw new Error('expected an error');
}

describe('parseDuration', () => {
  describe('when given Go-style durations', () => {
    it('reads single and combined units in milliseconds', () => {
      expect(parseDuration('10m', 'scan-interval')).toBe(600_000);
      expect(parseDuration('90s', 'scan-interval')).toBe(90_000);
      expect(parseDuration('1h30m', 'scan-interval')).toBe(5_400_000);
      expect(parseDuration('1.5h', 'scan-interval')).toBe(5_400_000);
      expect(parseDuration('1500ms', 'scan-interval')).toBe(1500);
    });
    it('reads 0 as off', () => {
      expect(parseDuration('0', 'scan-interval')).toBe(0);
    });
  });
  describe('when the text is not a duration', () => {
    it.each(['10', '', 'm', '10x', '5m junk', ' 5m', '-5m', '5m-'])('rejects %j with USAGE', (text) => {
      expect(usageError(() => parseDuration(text, 'scan-interval'))).toBe('USAGE');
    });
  });
  describe('when the duration is out of range', () => {
    it('rejects under a second and over a week with USAGE', () => {
      expect(usageError(() => parseDuration('500ms', 'scan-interval'))).toBe('USAGE');
      expect(usageError(() => parseDuration('169h', 'scan-interval'))).toBe('USAGE');
    });
  });
});

describe('kubeOptions', () => {
  describe('when no cluster flag is given', () => {
    it('reads pull secrets across namespaces, scans every 10 minutes and detects the report API', () => {
      expect(kubeOptions({}, ENV)).toEqual({
        kubeconfig: undefined,
        inCluster: false,
        namespace: 'sigward-system',
        pullSecret: undefined,
        pullSecretsAcrossNamespaces: true,
        scanIntervalMs: 600_000,
        reportApi: 'auto',
        excludedNamespaces: [],
        excludeLabel: 'sigward.dev/exclude',
        armWebhooks: undefined,
      });
    });
  });
  describe('when the scan is told what the webhook excludes', () => {
    it('keeps the namespaces, once each, and the label key', () => {
      const options = kubeOptions({ 'exclude-namespace': ['cni', 'cert-manager', 'cni'], 'exclude-label': 'example.com/no-verify', 'report-api': 'auto' }, ENV);
      expect(options).toMatchObject({ excludedNamespaces: ['cni', 'cert-manager'], excludeLabel: 'example.com/no-verify', reportApi: 'auto' });
    });
    it('refuses a name that is not a namespace, or a key that is not a label key, naming the flag', () => {
      expect(() => kubeOptions({ 'exclude-namespace': ['Bad_NS'] }, ENV)).toThrow(/--exclude-namespace: 'Bad_NS' is not a namespace name/);
      expect(() => kubeOptions({ 'exclude-label': 'a b' }, ENV)).toThrow(/--exclude-label: 'a b' is not a label key/);
    });
  });
  describe('when the flags turn things off or choose', () => {
    it('keeps the choices', () => {
      const options = kubeOptions(
        { 'no-pull-secrets-across-namespaces': true, 'pull-secret': 'regcred', 'scan-interval': '0', 'report-api': 'wgpolicyk8s' },
        { ...ENV, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      );
      expect(options).toMatchObject({ inCluster: true, pullSecret: 'regcred', pullSecretsAcrossNamespaces: false, scanIntervalMs: 0, reportApi: 'wgpolicyk8s' });
    });
  });
  describe('when flags contradict each other or name nothing valid', () => {
    it('rejects with USAGE', () => {
      expect(usageError(() => kubeOptions({ 'pull-secrets-across-namespaces': true, 'no-pull-secrets-across-namespaces': true }, ENV))).toBe('USAGE');
      expect(usageError(() => kubeOptions({ 'report-api': 'kyverno' }, ENV))).toBe('USAGE');
      expect(usageError(() => kubeOptions({ 'pull-secret': 'Not_A_Name' }, ENV))).toBe('USAGE');
    });
  });
  describe('when the kubeconfig does not exist', () => {
    it('rejects with FILE_UNREADABLE, from the flag or from $KUBECONFIG', () => {
      expect(usageError(() => kubeOptions({ kubeconfig: '/nonexistent/kubeconfig' }, ENV))).toBe('FILE_UNREADABLE');
      expect(usageError(() => kubeOptions({}, { ...ENV, KUBECONFIG: '/nonexistent/a:/nonexistent/b' }))).toBe('FILE_UNREADABLE');
    });
  });
  describe('when POD_NAMESPACE is not a namespace name', () => {
    it('rejects with CONFIG_INVALID', () => {
      expect(usageError(() => kubeOptions({}, { POD_NAMESPACE: 'Bad Namespace' }))).toBe('CONFIG_INVALID');
    });
  });
});

describe('Backoff', () => {
  describe('when a watch keeps failing', () => {
    it('waits 1 s, then twice as long each time, never more than 30 s', () => {
      const backoff = new Backoff({ random: () => 0 });
      const delays = Array.from({ length: 8 }, () => backoff.next());
      expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    });
    it('takes up to a fifth off each delay as jitter, never going under 0.8 s or over the cap', () => {
      const backoff = new Backoff({ random: () => 0.999 });
      const delays = Array.from({ length: 10 }, () => backoff.next());
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(800);
        expect(delay).toBeLessThanOrEqual(30_000);
      }
      expect(delays[0]).toBe(800);
      expect(delays[9]).toBe(24_006);
    });
  });
  describe('when the watch recovers', () => {
    it('starts again from 1 s after reset', () => {
      const backoff = new Backoff({ random: () => 0 });
      backoff.next();
      backoff.next();
      backoff.reset();
      expect(backoff.next()).toBe(1000);
      expect(backoff.attempts).toBe(1);
    });
  });
});

describe('kubeFlagsWithoutCluster', () => {
  describe('when a cluster flag is given without --watch-crds', () => {
    it('rejects with USAGE naming the flags', () => {
      expect(usageError(() => { kubeFlagsWithoutCluster({ 'pull-secret': 'x', 'scan-interval': '1m' }); })).toBe('USAGE');
      expect(() => { kubeFlagsWithoutCluster({ 'pull-secret': 'x' }); }).toThrow('--pull-secret: only with --watch-crds');
    });
  });
  it('accepts none', () => {
    expect(() => { kubeFlagsWithoutCluster({ port: '8443' }); }).not.toThrow();
  });
});
