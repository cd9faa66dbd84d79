/**
 * `sigward serve` deciding admissions as the API server sees it: a running process over HTTPS
 * (a certificate the client trusts through its CA only), policies from files, the Debian
 * distribution registry (TLS + htpasswd, credentials through --registry-config) and signatures
 * made by the real cosign. Every workload kind and container list, UPDATE, DELETE, dryRun,
 * every mode, thresholds, AND across policies, namespaced policies, --no-match, and references
 * with both a tag and a digest (docs/design.md §2–§4). The HTTP side (bad bodies, /mutate, health,
 * metrics) is in serve-endpoints.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { makeTempDir, sleep } from '../support/process.js';
import { countRequests, startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { ALL_KINDS, createReview, deleteReview, ephemeralReview, imagePath, updateReview } from '../support/review.js';
import { startServe, type AdmissionResponse, type PolicyDoc, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const AUTH = { username: 'sigward-serve', password: 'serve-admission-5d1e' };
const scratch = makeTempDir('serve-admission');
let registry: TestRegistry;
let signer: CosignKeyPair;
let second: CosignKeyPair;
/** Three servers that differ in --no-match only: deny (the default), allow, warn. */
let main: ServeProcess, lenient: ServeProcess, warning: ServeProcess;
const images: Record<string, TestImage> = {};
const raise = (message: string): never => { throw new Error(message); };
const image = (name: string): TestImage => images[name] ?? raise(`no test image ${name}`);

beforeAll(async () => {
  registry = await startDistributionRegistry({ auth: AUTH, tls: true });
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  second = await generateKeyPair(scratch.dir, 2, 'second');
  const plan: Record<string, [string, string, CosignKeyPair[]]> = {
    signed: ['enforce/app', 'signed', [signer]],
    unsigned: ['enforce/app', 'unsigned', []],
    warnSigned: ['warn/app', 'signed', [signer]],
    warnUnsigned: ['warn/app', 'unsigned', []],
    auditSigned: ['audit/app', 'signed', [signer]],
    auditUnsigned: ['audit/app', 'unsigned', []],
    thresholdOne: ['threshold/app', 'one', [signer]],
    thresholdTwo: ['threshold/app', 'two', [signer, second]],
    andOne: ['both/app', 'one', [signer]],
    andTwo: ['both/app', 'two', [signer, second]],
    teamSecond: ['team/app', 'second-only', [second]],
    teamBoth: ['team/app', 'both', [signer, second]],
    unmatched: ['nomatch/app', 'v1', [signer]],
  };
  const pushed = await Promise.all(Object.values(plan).map(([repo, tag, keys]) => pushImage(registry, repo, tag, keys)));
  Object.keys(plan).forEach((name, i) => { images[name] = pushed[i]!; });

  const host = registry.host;
  const key = (file: CosignKeyPair, name: string) => ({ name, publicKeyFile: file.publicKey });
  const enforce: PolicyDoc = { name: 'enforce-app', images: [`${host}/enforce/**`], authorities: [key(signer, 'release')] };
  const policies: PolicyDoc[] = [
    enforce,
    { name: 'warn-app', mode: 'warn', images: [`${host}/warn/**`], authorities: [key(signer, 'release')] },
    { name: 'audit-app', mode: 'audit', images: [`${host}/audit/**`], authorities: [key(signer, 'release')] },
    { name: 'threshold-two', threshold: 2, images: [`${host}/threshold/**`], authorities: [key(signer, 'release'), key(second, 'qa')] },
    { name: 'both-first', images: [`${host}/both/**`], authorities: [key(signer, 'release')] },
    { name: 'both-second', images: [`${host}/both/**`], authorities: [key(second, 'qa')] },
    { name: 'team-cluster', images: [`${host}/team/**`], authorities: [key(second, 'qa')] },
    { kind: 'ImagePolicy', namespace: 'team-a', name: 'team-strict', images: [`${host}/team/**`], authorities: [key(signer, 'release')] },
  ];
  [main, lenient, warning] = await Promise.all([
    startServe({ policies, registries: [registry] }),
    startServe({ policies: [enforce], registries: [registry], noMatch: 'allow' }),
    startServe({ policies: [enforce], registries: [registry], noMatch: 'warn' }),
  ]);
}, 240_000);

afterAll(async () => {
  await Promise.all([main?.stop(), lenient?.stop(), warning?.stop()]);
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

/** A denial as docs/design.md §3 words it: 403, and a message naming every part given. */
function expectDenied(response: AdmissionResponse, uid: string, parts: readonly string[]): void {
  expect(response).toMatchObject({ uid, allowed: false, status: { code: 403 } });
  for (const part of parts) expect(response.status?.message).toContain(part);
}

/** Whether `count` becomes positive within a second (the registry writes a request's log line
 * as its answer leaves, which may be a moment after sigward has answered us). */
async function logged(count: () => number): Promise<boolean> {
  for (let i = 0; i < 20 && count() === 0; i++) await sleep(50);
  return count() > 0;
}

function expectAdmitted(response: AdmissionResponse, uid: string): void {
  expect({ uid: response.uid, allowed: response.allowed, status: response.status }).toEqual({ uid, allowed: true, status: undefined });
}

describe('POST /validate', () => {
  describe.each(ALL_KINDS)('when a %s runs a signed image', (kind) => {
    it('admits it', async () => {
      const request = createReview(kind, image('signed').reference);
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });
  });

  describe.each(ALL_KINDS)('when a %s runs an unsigned image', (kind) => {
    it('denies with 403 naming the field path, reference, digest, policy and reason', async () => {
      const unsigned = image('unsigned');
      const request = createReview(kind, unsigned.reference);
      expectDenied(await main.admit('/validate', request), request.request.uid, [
        `${imagePath(kind)} (container app-0): image ${unsigned.reference}`, unsigned.digest, 'ClusterImagePolicy enforce-app', 'NO_SIGNATURES',
      ]);
    });
  });

  describe.each(['Pod', 'Deployment'] as const)('when a %s has a signed container and an unsigned init container', (kind) => {
    it('denies naming the init container only', async () => {
      const request = createReview(kind, { containers: [image('signed').reference], initContainers: [image('unsigned').reference] });
      const response = await main.admit('/validate', request);
      expectDenied(response, request.request.uid, [imagePath(kind, 'initContainers'), image('unsigned').digest]);
      expect(response.status?.message).not.toContain(imagePath(kind, 'containers'));
    });
  });

  describe('when kubectl debug adds an ephemeral container (pods/ephemeralcontainers)', () => {
    it('denies an unsigned debug image naming spec.ephemeralContainers[0].image', async () => {
      const request = ephemeralReview(image('signed').reference, image('unsigned').reference);
      expectDenied(await main.admit('/validate', request), request.request.uid, ['spec.ephemeralContainers[0].image', image('unsigned').digest]);
    });

    it('admits a signed debug image', async () => {
      const request = ephemeralReview(image('signed').reference, image('signed').byDigest);
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });
  });

  describe('when an UPDATE changes the image', () => {
    it('admits unsigned → signed: only the new object is judged', async () => {
      const request = updateReview('Deployment', image('unsigned').reference, image('signed').reference);
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });

    it('denies signed → unsigned', async () => {
      const request = updateReview('Deployment', image('signed').reference, image('unsigned').reference);
      expectDenied(await main.admit('/validate', request), request.request.uid, [imagePath('Deployment'), image('unsigned').digest]);
    });
  });

  describe('when an object is deleted', () => {
    it('admits it without a single registry request', async () => {
      const gone = `${registry.host}/enforce/deleted-only:v1`;
      const lookups = () => countRequests(registry.logFile, /^\S+ \/v2\/enforce\/deleted-only\//);
      const request = deleteReview('Pod', gone);
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
      const afterDelete = lookups();
      // The same image in a CREATE is looked up (and denied): the count above could have moved.
      const create = createReview('Pod', gone);
      expectDenied(await main.admit('/validate', create), create.request.uid, ['MANIFEST_UNKNOWN']);
      expect({ afterDelete, afterCreate: await logged(lookups) }).toEqual({ afterDelete: 0, afterCreate: true });
    });
  });

  describe('when the request is a dryRun', () => {
    it('decides as for a real request', async () => {
      const denied = createReview('Pod', image('unsigned').reference, { dryRun: true });
      const admitted = createReview('Pod', image('signed').reference, { dryRun: true });
      expectDenied(await main.admit('/validate', denied), denied.request.uid, [image('unsigned').digest]);
      expectAdmitted(await main.admit('/validate', admitted), admitted.request.uid);
    });
  });
});

describe('policy modes', () => {
  describe('when a warn policy fails', () => {
    it('admits with a warning naming the field, image and policy', async () => {
      const request = createReview('Pod', image('warnUnsigned').reference);
      const response = await main.admit('/validate', request);
      expectAdmitted(response, request.request.uid);
      expect(response.warnings).toHaveLength(1);
      expect(response.warnings?.[0]).toContain(`spec.containers[0].image ${image('warnUnsigned').reference} not verified: ClusterImagePolicy warn-app (warn): 0 of 1 authorities verified`);
    });

    it('admits a signed image without warnings', async () => {
      const response = await main.admit('/validate', createReview('Pod', image('warnSigned').reference));
      expect({ allowed: response.allowed, warnings: response.warnings }).toEqual({ allowed: true, warnings: undefined });
    });
  });

  describe('when an audit policy fails', () => {
    it('admits silently and records auditAnnotations', async () => {
      const request = createReview('Pod', image('auditUnsigned').reference);
      const response = await main.admit('/validate', request);
      expectAdmitted(response, request.request.uid);
      expect(response.warnings).toBeUndefined();
      const values = Object.values(response.auditAnnotations ?? {});
      expect(values).toHaveLength(1);
      for (const part of ['spec.containers[0].image', image('auditUnsigned').digest, 'ClusterImagePolicy audit-app', 'NO_SIGNATURES']) {
        expect(values[0]).toContain(part);
      }
    });

    it('records nothing for a signed image', async () => {
      const response = await main.admit('/validate', createReview('Pod', image('auditSigned').reference));
      expect({ allowed: response.allowed, auditAnnotations: response.auditAnnotations }).toEqual({ allowed: true, auditAnnotations: undefined });
    });
  });
});

describe('thresholds and several policies', () => {
  describe('when a threshold-2 policy sees one of its two signatures', () => {
    it('denies saying 1 of 2 verified, 2 required', async () => {
      const request = createReview('Pod', image('thresholdOne').reference);
      expectDenied(await main.admit('/validate', request), request.request.uid, ['threshold-two (enforce): 1 of 2 authorities verified, 2 required', 'authority qa']);
    });
  });

  describe('when a threshold-2 policy sees both signatures (cosign signed twice)', () => {
    it('admits', async () => {
      const request = createReview('Pod', image('thresholdTwo').reference);
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });
  });

  describe('when two policies match and only one passes', () => {
    it('denies naming the failing policy (AND)', async () => {
      const request = createReview('Pod', image('andOne').reference);
      const response = await main.admit('/validate', request);
      expectDenied(response, request.request.uid, ['ClusterImagePolicy both-second (enforce): 0 of 1 authorities verified']);
      expect(response.status?.message).not.toContain('both-first (enforce)');
    });
  });

  describe('when two policies match and both pass', () => {
    it('admits', async () => {
      const request = createReview('Pod', image('andTwo').reference);
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });
  });

  describe('when an ImagePolicy of namespace team-a requires another key', () => {
    it('denies inside team-a naming the ImagePolicy', async () => {
      const request = createReview('Pod', image('teamSecond').reference, { namespace: 'team-a' });
      expectDenied(await main.admit('/validate', request), request.request.uid, ['ImagePolicy team-a/team-strict (enforce): 0 of 1']);
    });

    it('admits the same image outside team-a, where only the cluster policy applies', async () => {
      const request = createReview('Pod', image('teamSecond').reference, { namespace: 'team-b' });
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });

    it('admits inside team-a an image both keys signed', async () => {
      const request = createReview('Pod', image('teamBoth').reference, { namespace: 'team-a' });
      expectAdmitted(await main.admit('/validate', request), request.request.uid);
    });
  });
});

describe('when no policy matches the image', () => {
  it('denies under --no-match deny (the default)', async () => {
    const request = createReview('Pod', image('unmatched').reference);
    expectDenied(await main.admit('/validate', request), request.request.uid, [image('unmatched').reference, 'no policy matches the image (--no-match deny)']);
  });

  it('admits silently under --no-match allow', async () => {
    const request = createReview('Pod', image('unmatched').reference);
    const response = await lenient.admit('/validate', request);
    expectAdmitted(response, request.request.uid);
    expect(response.warnings).toBeUndefined();
  });

  it('admits with a warning under --no-match warn', async () => {
    const request = createReview('Pod', image('unmatched').reference);
    const response = await warning.admit('/validate', request);
    expectAdmitted(response, request.request.uid);
    expect(response.warnings?.join('\n')).toContain('no policy matches the image (--no-match warn)');
  });
});

describe('when a reference carries both a tag and a digest', () => {
  it('denies the signed tag with the unsigned digest: the digest decides', async () => {
    const mixed = `${image('signed').repository}:signed@${image('unsigned').digest}`;
    const request = createReview('Pod', mixed);
    expectDenied(await main.admit('/validate', request), request.request.uid, [image('unsigned').digest, 'NO_SIGNATURES']);
  });

  it('admits the unsigned tag with the signed digest', async () => {
    const request = createReview('Pod', `${image('signed').repository}:unsigned@${image('signed').digest}`);
    expectAdmitted(await main.admit('/validate', request), request.request.uid);
  });

  it('never asks the registry about the tag', async () => {
    const tagged = `${image('signed').repository}:tag-that-was-never-pushed`;
    const lookups = () => countRequests(registry.logFile, /^\S+ \/v2\/enforce\/app\/manifests\/tag-that-was-never-pushed$/);
    const request = createReview('Pod', `${tagged}@${image('signed').digest}`);
    expectAdmitted(await main.admit('/validate', request), request.request.uid);
    const withDigest = lookups();
    // The tag alone is looked up (and not found): the count above could have moved.
    await main.admit('/validate', createReview('Pod', tagged));
    expect({ withDigest, tagAlone: await logged(lookups) }).toEqual({ withDigest: 0, tagAlone: true });
  });
});
