import { connect } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { reviewOf } from './admission-fixtures.js';
import { allowAll, deferred, eventually, scriptedEvaluator, startHarness } from './server-support.js';

/** The error code of a plain TCP connection attempt, or 'connected'. */
function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? 'unknown');
    });
  });
}

describe('close()', () => {
  describe('when a review is in flight', () => {
    it('stops accepting, answers the review, then resolves', async () => {
      const gate = deferred<true>();
      const evaluator = scriptedEvaluator({
        evaluate: async (images) => {
          await gate.promise;
          return allowAll(images);
        },
      });
      const harness = await startHarness(evaluator, { shutdownTimeoutMs: 5000 });
      const inFlight = harness.post('/validate', reviewOf('Pod', 'uid-draining'));
      await eventually(() => evaluator.evaluated.length === 1);

      let closed = false;
      const closing = harness.server.close().then(() => {
        closed = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(closed).toBe(false);
      // New connections are refused while the review drains.
      expect(await connectError(harness.server.port)).toBe('ECONNREFUSED');

      gate.resolve(true);
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.response).toEqual({ uid: 'uid-draining', allowed: true });
      await closing;
      expect(closed).toBe(true);
      await harness.agent.close();
    });
  });

  describe('when a review outlives the shutdown timeout', () => {
    it('closes anyway', async () => {
      const evaluator = scriptedEvaluator({ evaluate: () => new Promise<never>(() => undefined) });
      const harness = await startHarness(evaluator, { shutdownTimeoutMs: 100, metricsPort: null });
      const inFlight = harness.post('/validate', reviewOf('Pod')).catch((error: unknown) => error);
      await eventually(() => evaluator.evaluated.length === 1);
      const started = performance.now();
      await harness.server.close();
      expect(performance.now() - started).toBeLessThan(2000);
      // The review was cut off: the client sees a failed request, not an answer.
      expect(await inFlight).toMatchObject({ message: expect.any(String) });
      expect(await inFlight).not.toHaveProperty('status');
      await harness.agent.close();
    });
  });
});
