/**
 * The floor for the cached admission path: a bare node:https server that reads the body,
 * JSON.parses it and answers `allowed: true` with the uid copied. No routing, no validation,
 * no policy: what any webhook written in Node must at least do per review. It serves the same
 * kind of certificate sigward generates (self-signed ECDSA P-256, TLS >= 1.2), so both pay the
 * same TLS costs. Prints `listening PORT` on stdout; stops on SIGTERM.
 *
 *   node bench/floor-server.mjs [--port 0]
 */
import { createServer } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Only the certificate generator comes from sigward's build (the same kind of certificate).
const dist = process.env.SIGWARD_BENCH_DIST ?? join(import.meta.dirname, '..', 'dist');
const { generateSelfSigned } = await import(pathToFileURL(join(dist, 'server', 'self-signed.js')).href);

const portArg = process.argv.indexOf('--port');
const port = portArg < 0 ? 0 : Number(process.argv[portArg + 1]);
const pair = await generateSelfSigned('floor');

const server = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let uid = '';
    try {
      uid = JSON.parse(Buffer.concat(chunks).toString('utf8')).request.uid;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"not a review"}');
      return;
    }
    const text = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
