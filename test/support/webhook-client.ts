/**
 * The client side of the webhook conversation: HTTPS requests through an undici Agent that
 * trusts the test CA alone, AdmissionReview answers read back, /mutate patches decoded, and
 * bodies whose last byte is held back (a barrier that lets many reviews complete together).
 */
import { Agent, fetch } from 'undici';

export const REQUEST_TIMEOUT_MS = 60_000;

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** The `response` of an AdmissionReview answer, as sigward fills it in. */
export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly reason?: string; readonly message: string };
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  readonly patchType?: string;
  readonly patch?: string;
}

/** A review whose body is on its way but not finished (see heldBody). */
export interface HeldReview {
  /** Resolves once all but the last byte has been handed to the client. */
  readonly started: Promise<void>;
  readonly response: Promise<AdmissionResponse>;
}

/** Status, type and body of an answer; the body also parsed as JSON when it is JSON. */
export async function answerOf(response: Awaited<ReturnType<typeof fetch>>): Promise<HttpAnswer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json };
}

export type Request = (path: string, init: { method: string; body?: string | Uint8Array | ReadableStream<Uint8Array> }) => Promise<HttpAnswer>;

/** Requests to `origin` through `agent`, which trusts the webhook's CA and nothing else. */
export function requester(agent: Agent, origin: string): Request {
  return async (path, init) =>
    answerOf(
      await fetch(`${origin}${path}`, {
        ...init,
        headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
        ...(init.body instanceof ReadableStream ? { duplex: 'half' as const } : {}),
        dispatcher: agent,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      }),
    );
}

/** The `response` of an AdmissionReview answer; throws (quoting the body) unless HTTP 200 with one. */
export function reviewResponse(path: string, answer: HttpAnswer): AdmissionResponse {
  const response = (answer.json as { response?: AdmissionResponse } | undefined)?.response;
  if (answer.status !== 200 || response === undefined) {
    throw new Error(`POST ${path}: HTTP ${answer.status}, not an AdmissionReview answer: ${answer.text.slice(0, 500)}`);
  }
  return response;
}

/** A body stream that gives all but the last byte at once and the last byte after `release`. */
export function heldBody(bytes: Uint8Array, release: Promise<void>): { body: ReadableStream<Uint8Array>; started: Promise<void> } {
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => { markStarted = resolve; });
  let sentHead = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(bytes.subarray(0, -1));
        markStarted();
        return;
      }
      await release;
      controller.enqueue(bytes.subarray(-1));
      controller.close();
    },
  });
  return { body, started };
}

/** Decodes a /mutate answer's base64 JSONPatch. */
export function decodePatch(response: AdmissionResponse): unknown {
  if (response.patch === undefined) return undefined;
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}
