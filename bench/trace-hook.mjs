/**
 * A timeline of one sigward process, for finding where a review's time goes, without touching
 * sigward's code: loaded with `node --import ./bench/trace-hook.mjs`, it subscribes to node's
 * and undici's diagnostics channels and appends one JSON line per event to $SIGWARD_TRACE_FILE:
 * each webhook request (start, finish) and each registry request (created, headers received,
 * body ended), with performance.now() times in ms.
 */
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';

const file = process.env.SIGWARD_TRACE_FILE;
if (file) {
  const ids = new WeakMap();
  let next = 0;
  const id = (o) => {
    if (!ids.has(o)) ids.set(o, ++next);
    return ids.get(o);
  };
  const write = (event) => appendFileSync(file, `${JSON.stringify({ t: performance.now(), ...event })}\n`);
  subscribe('http.server.request.start', ({ request }) => write({ ev: 'review-start', id: id(request), path: request.url }));
  subscribe('http.server.response.finish', ({ request }) => write({ ev: 'review-finish', id: id(request), path: request.url }));
  subscribe('undici:request:create', ({ request }) => write({ ev: 'reg-create', id: id(request), method: request.method, path: request.path }));
  subscribe('undici:request:headers', ({ request, response }) => write({ ev: 'reg-headers', id: id(request), status: response.statusCode }));
  subscribe('undici:request:trailers', ({ request }) => write({ ev: 'reg-end', id: id(request) }));
}
