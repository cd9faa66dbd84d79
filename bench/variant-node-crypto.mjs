/**
 * An experiment, not a build: copies dist/ to bench/out/dist-nodecrypto/ and changes the copy's
 * ECDSA check (crypto/ecdsa.js) from @noble/curves to node:crypto's `verify` (OpenSSL) with the
 * key parsed once, so benches can measure what that change would buy before anyone makes it in
 * src/. OpenSSL, like Go, accepts high-S signatures; DER or raw r‖s as before. Everything else
 * (DER/raw detection, key checks, the P-384/P-521 hash choice) is unchanged.
 *
 *   node bench/variant-node-crypto.mjs
 *   SIGWARD_BENCH_DIST=bench/out/dist-nodecrypto node bench/admission-cold.mjs
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const target = join(ROOT, 'bench', 'out', 'dist-nodecrypto');
rmSync(target, { recursive: true, force: true });
cpSync(join(ROOT, 'dist'), target, { recursive: true });

const file = join(target, 'crypto', 'ecdsa.js');
let code = readFileSync(file, 'utf8');
const replace = (from, to) => {
  if (!code.includes(from)) throw new Error(`dist/crypto/ecdsa.js changed: cannot find ${JSON.stringify(from.slice(0, 80))}`);
  code = code.replace(from, to);
};
replace("import { createPublicKey } from 'node:crypto';", "import { createPublicKey, verify as nodeVerify } from 'node:crypto';");
replace(
  '    const point = publicPoint(key, spec);\n    return (message, signature) => {',
  "    const point = publicPoint(key, spec);\n    const keyObject = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });\n"
    + '    return (message, signature) => {',
);
const start = code.indexOf('        return spec.hashes.some((algorithm) => spec.curve.verify(');
const end = code.indexOf('/**\n * DER `SEQUENCE');
if (start < 0 || end < start) throw new Error('dist/crypto/ecdsa.js changed: cannot find the noble verify call');
code = `${code.slice(0, start)}        return spec.hashes.some((algorithm) => nodeVerify(algorithm, message, `
  + "{ key: keyObject, dsaEncoding: format === 'der' ? 'der' : 'ieee-p1363' }, signature));\n    };\n}\n"
  + code.slice(end);
writeFileSync(file, code);
console.log(`${target}: dist/ with ECDSA checked by node:crypto (point still validated by noble at key load)`);
