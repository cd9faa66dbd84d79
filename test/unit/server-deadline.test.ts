import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deadlinePolicy, raceDeadline } from '../../src/server/deadline.js';
import { reviewOf } from './admission-fixtures.js';
import { scriptedEvaluator, startHarness, type Harness, type ScriptedEvaluator } from './server-support.js';

describe('deadlinePolicy', () => {
  it('leaves a margin of 20% of the timeout, at most one second', () => {
    expect(deadlinePolicy(10).budgetMs).toBe(9000);
    expect(deadlinePolicy(30).budgetMs).toBe(29000);
    expect(deadlinePolicy(1).budgetMs).toBe(800);
  });
});

describe('raceDeadline', () => {
  describe('when the work ignores the signal and never settles', () => {
    it('settles as unfinished at the deadline and aborts the signal with DEADLINE_EXCEEDED', async () => {
      let seen: AbortSignal | undefined;
      const started = performance.now();
      const raced = await raceDeadline((signal) => { seen = signal; return new Promise<never>(() => undefined); }, 50, deadlinePolicy(1));
      expect(raced.finished).toBe(false);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(seen!.aborted).toBe(true);
      expect(seen!.reason).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    });
  });

  describe('when the work finishes first', () => {
    it('returns its value and leaves the signal alone', async () => {
      let seen: AbortSignal | undefined;
      const raced = await raceDeadline((signal) => { seen = signal; return Promise.resolve(42); }, 1000, deadlinePolicy(1));
      expect(raced).toEqual({ finished: true, value: 42 });
      expect(seen!.aborted).toBe(false);
    });
  });

  describe('when the work rejects before the deadline', () => {
    it('propagates the rejection', async () => {
      await expect(raceDeadline(() => Promise.reject(new Error('registry down')), 1000, deadlinePolicy(1))).rejects.toThrow('registry down');
    });
  });
});

describe('webhook server with a hanging evaluator', () => {
  let harness: Harness;
  let evaluator: ScriptedEvaluator;

  beforeAll(async () => {
    // A registry that never answers and an evaluator that ignores its signal.
    evaluator = scriptedEvaluator({ evaluate: () => new Promise<never>(() => undefined) });
    harness = await startHarness(evaluator, { webhookTimeoutSeconds: 2, shutdownTimeoutMs: 100 });
  });

  afterAll(async () => {
    await harness.close();
  });

  describe('when a review waits on it', () => {
    it('denies before the webhook timeout, naming the timeout, and aborts the evaluation', async () => {
      await harness.get('/healthz'); // the TLS handshake is not part of the review's time
      const started = performance.now();
      const res = await harness.post('/validate', reviewOf('Pod', 'uid-hang'));
      const elapsed = performance.now() - started;
      const line = harness.logs.find((l) => l.uid === 'uid-hang' && l.msg === 'admission decision')!;
      // The server answered at its 1.6 s budget, before the API server's 2 s timeout (the
      // 0.4 s between them absorbs a busy event loop).
      expect(line.durationMs).toBeGreaterThanOrEqual(1595);
      expect(line.durationMs).toBeLessThan(2000);
      expect(elapsed).toBeLessThan(3000);
      expect(res.status).toBe(200);
      expect(res.response.allowed).toBe(false);
      expect(res.response.status!.message).toContain('spec.containers[0].image (container web): image nginx:1.27, policy (none): not finished within 1.6s (webhook timeout 2s');
      expect(evaluator.evaluated.at(-1)!.signal.aborted).toBe(true);
    });
  });
});
