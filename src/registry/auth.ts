import { HEADER } from '../constants.js';
import { isSigwardError, SigwardError } from '../errors.js';
import type { CredentialProvider } from './types.js';
import { chooseChallenge, parseChallenges, type Challenge } from './challenge.js';
import { subject, type CallContext } from './context.js';
import { statusError } from './failure.js';
import { apiHost, type InsecureHosts } from './host.js';
import type { HttpReply, HttpRequest, Transport } from './http.js';
import { LIMITS } from './limits.js';
import { realmProblem } from './realm.js';
import { ANONYMOUS, basicHeader, cacheKey, identityKey, parseTokenResponse, TokenCache, type Identity } from './token.js';

const REJECTED = Symbol('rejected');
type Authorization = string | typeof REJECTED;

/** Token endpoint answers that mean "not with this credential": try the next one. */
const TOKEN_REFUSALS = new Set([400, 401, 403, 404, 405]);
const BASIC_LIFETIME_MS = 3_600_000;
const MAX_REMEMBERED_CHALLENGES = 256;

/**
 * Answers 401 challenges (distribution token spec, cosign-spec §3.2). Credentials are tried in
 * order (the call's own, e.g. a pod's pull secrets, then the client's, else anonymous); each
 * gets one fresh authorization, and a second 401 moves on to the next, so a registry that
 * answers 401 forever ends in REGISTRY_AUTH, never a loop.
 */
export class Authenticator {
  private readonly tokens = new TokenCache();
  /** The last challenge seen per registry, so other repositories get a token without a 401 first. */
  private readonly challenges = new Map<string, Challenge>();
  /** Token requests in flight: concurrent calls needing the same token share one request. */
  private readonly pending = new Map<string, Promise<Authorization>>();

  constructor(
    private readonly transport: Transport,
    private readonly insecure: InsecureHosts,
    private readonly own: readonly CredentialProvider[],
  ) {}

  async send(ctx: CallContext, request: HttpRequest, perCall: CredentialProvider | readonly CredentialProvider[] | undefined): Promise<HttpReply> {
    const { identities, unavailable } = await this.identities(ctx, perCall);
    for (const identity of identities) {
      const outcome = await this.tryIdentity(ctx, request, identity);
      if (outcome !== REJECTED) return outcome;
    }
    const tried = identities.map((identity) => identity.source).join(', ');
    // What could not give credentials comes first: it is the likely cause, and a deny's reason is cut to a bounded length.
    const missing = unavailable.length === 0 ? '' : `${unavailable.join('; ')}; then `;
    throw new SigwardError('REGISTRY_AUTH', `${subject(ctx)}: ${missing}registry ${ctx.repo.registry} refused authentication (tried: ${tried})`);
  }

  /** The distinct credentials for this call, in order, and the sources that could not answer
   * (CREDENTIALS_UNAVAILABLE: a helper or plugin that failed); the call goes on without them. */
  private async identities(ctx: CallContext, perCall: CredentialProvider | readonly CredentialProvider[] | undefined): Promise<{ identities: Identity[]; unavailable: string[] }> {
    const found: Identity[] = [];
    const unavailable: string[] = [];
    const query = { repository: ctx.repo.repository, signal: ctx.signal };
    for (const provider of [...[perCall ?? []].flat(), ...this.own]) {
      let credential;
      try {
        credential = await provider(ctx.repo.registry, query);
      } catch (err) {
        if (!isSigwardError(err, 'CREDENTIALS_UNAVAILABLE')) throw err;
        unavailable.push(err.message);
        continue;
      }
      if (credential !== undefined && !found.some((seen) => identityKey(seen) === identityKey(credential))) found.push(credential);
    }
    return { identities: found.length > 0 ? found : [ANONYMOUS], unavailable };
  }

  private async tryIdentity(ctx: CallContext, request: HttpRequest, identity: Identity): Promise<HttpReply | typeof REJECTED> {
    const key = cacheKey(ctx.repo.registry, ctx.repo.repository, identity);
    let authorization: string | undefined = this.tokens.get(key);
    let fresh = false;
    const known = this.challenges.get(ctx.repo.registry);
    if (authorization === undefined && known !== undefined) {
      // A challenge this identity cannot answer is no verdict yet: this repository may be public.
      const proactive = await this.authorize(ctx, known, identity, key);
      if (proactive !== REJECTED) {
        authorization = proactive;
        fresh = true;
      }
    }
    const first = await this.transport.send(ctx, withAuthorization(request, authorization));
    if (first.status !== 401) return first;
    this.tokens.delete(key);
    if (fresh) return REJECTED;
    const challenge = chooseChallenge(parseChallenges(first.headers.get(HEADER.wwwAuthenticate) ?? ''));
    if (challenge === undefined) {
      throw new SigwardError('REGISTRY_AUTH', `${subject(ctx)}: registry answered 401 without a Bearer or Basic challenge`);
    }
    this.remember(ctx.repo.registry, challenge);
    const renewed = await this.authorize(ctx, challenge, identity, key);
    if (renewed === REJECTED) return REJECTED;
    const second = await this.transport.send(ctx, withAuthorization(request, renewed));
    if (second.status !== 401) return second;
    this.tokens.delete(key);
    return REJECTED;
  }

  /** An Authorization header for a challenge, or REJECTED when this identity cannot answer it. */
  private async authorize(ctx: CallContext, challenge: Challenge, identity: Identity, key: string): Promise<Authorization> {
    if (challenge.scheme === 'basic') {
      if (identity.kind !== 'basic') return REJECTED;
      const header = basicHeader(identity.username, identity.password);
      this.tokens.set(key, header, BASIC_LIFETIME_MS);
      return header;
    }
    const shared = this.pending.get(key);
    if (shared !== undefined) {
      try {
        return await shared;
      } catch (err) {
        // The shared request ran under the signal of the call that started it; when that call's
        // deadline passed and this one's has not, this call asks for itself.
        if (!isSigwardError(err, 'DEADLINE_EXCEEDED') || ctx.signal?.aborted === true) throw err;
      }
    }
    const request = this.fetchToken(ctx, challenge, identity, key).finally(() => this.pending.delete(key));
    this.pending.set(key, request);
    return request;
  }

  private async fetchToken(ctx: CallContext, challenge: Challenge, identity: Identity, key: string): Promise<Authorization> {
    const tokenCtx: CallContext = { ...ctx, operation: 'token', what: `token for ${ctx.what}` };
    const realm = this.checkedRealm(tokenCtx, challenge.params.realm ?? '');
    // A realm on a host other than the registry's may only be reached at public addresses.
    const publicOnly = realm.hostname !== new URL(`http://${apiHost(ctx.repo.registry)}`).hostname;
    const reply = await this.transport.send(tokenCtx, { ...tokenRequest(tokenCtx, realm, challenge, identity), publicOnly });
    if (TOKEN_REFUSALS.has(reply.status)) return REJECTED;
    if (reply.status < 200 || reply.status >= 300) throw statusError(tokenCtx, reply.status);
    const issued = parseTokenResponse(reply.body, subject(tokenCtx));
    const header = `Bearer ${issued.token}`;
    this.tokens.set(key, header, issued.lifetimeMs);
    return header;
  }

  private checkedRealm(ctx: CallContext, realm: string): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new SigwardError('REGISTRY_AUTH', `${subject(ctx)}: token realm ${JSON.stringify(realm.slice(0, 200))} is not a URL`, { cause: err });
    }
    const problem = realmProblem(url, apiHost(ctx.repo.registry), this.insecure);
    if (problem !== undefined) {
      throw new SigwardError('REGISTRY_AUTH', `${subject(ctx)}: refusing token realm ${url.origin}${url.pathname}: ${problem}`);
    }
    return url;
  }

  private remember(registry: string, challenge: Challenge): void {
    this.challenges.delete(registry);
    if (this.challenges.size >= MAX_REMEMBERED_CHALLENGES) {
      const oldest = this.challenges.keys().next();
      if (oldest.done !== true) this.challenges.delete(oldest.value);
    }
    this.challenges.set(registry, challenge);
  }
}

/** GET realm?service=…&scope=repository:NAME:pull, anonymous or with Basic credentials; an
 * identity token is exchanged by the OAuth2 refresh_token grant (POST, distribution oauth.md). */
function tokenRequest(ctx: CallContext, realm: URL, challenge: Challenge, identity: Identity): HttpRequest {
  const scope = `repository:${ctx.repo.repository}:pull`;
  const service = challenge.params.service;
  const limit = {
    maxBytes: LIMITS.tokenResponseBytes,
    exceeded: (bytes: number) =>
      new SigwardError('REGISTRY_RESPONSE_INVALID', `${subject(ctx)}: token answer of ${bytes} bytes is over ${LIMITS.tokenResponseBytes}`),
  };
  if (identity.kind === 'token') {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: identity.identityToken, client_id: 'sigward', scope });
    if (service !== undefined) form.set('service', service);
    const headers = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
    return { method: 'POST', url: realm, headers, body: form.toString(), limit };
  }
  const url = new URL(realm);
  if (service !== undefined) url.searchParams.set('service', service);
  url.searchParams.append('scope', scope);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (identity.kind === 'basic') headers.authorization = basicHeader(identity.username, identity.password);
  return { method: 'GET', url, headers, limit };
}

function withAuthorization(request: HttpRequest, authorization: string | undefined): HttpRequest {
  if (authorization === undefined) return request;
  return { ...request, headers: { ...request.headers, authorization } };
}
