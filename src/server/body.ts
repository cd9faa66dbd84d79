import type { IncomingMessage } from 'node:http';
import { SigwardError } from '../errors.js';

/**
 * How much more than the cap is read and discarded before the connection is cut. Reading the
 * rest lets the client see the 413 instead of a reset; the bound stops a client streaming forever.
 */
const DRAIN_FACTOR = 4;

/**
 * The request body, parsed as JSON once. No body-parser: the webhook reads one small JSON
 * document per request, and the cap is enforced on the bytes as they arrive (a declared
 * Content-Length over the cap is refused before a byte is buffered).
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes * DRAIN_FACTOR) {
      reject(tooLarge(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let over = declared > maxBytes;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) over = true;
      if (over) {
        chunks.length = 0;
        if (received > maxBytes * DRAIN_FACTOR) {
          reject(tooLarge(maxBytes));
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (over) {
        reject(tooLarge(maxBytes));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks, received).toString('utf8')));
      } catch (cause) {
        reject(new SigwardError('REVIEW_INVALID', 'the body is not JSON', { cause }));
      }
    });
    req.on('error', reject);
    // A client that goes away mid-body: settle so the handler does not wait for ever.
    req.on('close', () => {
      if (!req.complete) reject(new SigwardError('REVIEW_INVALID', 'the client closed the connection before the body ended'));
    });
  });
}

function tooLarge(maxBytes: number): SigwardError {
  return new SigwardError('REVIEW_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
}
