/**
 * A registry with the OCI 1.1 referrers API: go-containerregistry's registry package, the code
 * `crane registry serve` runs, with `registry.WithReferrersSupport(true)`. crane's own command
 * builds the registry without that option (ggcr v0.21.9 cmd/crane/cmd/serve.go), so its
 * referrers endpoint is a 404 and cosign falls back to the `sha256-<hex>` tag there; this one
 * answers `GET /v2/<name>/referrers/<digest>`, and cosign v3 then writes no fallback tag.
 *
 * The binary is a ten-line main package built once, offline (GOPROXY=off), from the module cache
 * that `scripts/tools.sh crane` fills when it installs crane, into the tools cache.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { registryFetch, type RegistryEndpoint } from './http.js';
import { makeTempDir, runChecked, sleep, startDaemon } from './process.js';
import type { TestRegistry } from './registries.js';

/** The go-containerregistry release crane is built from (scripts/tools.sh CRANE_VERSION). */
const GGCR_VERSION = 'v0.21.9';
const STARTUP_TIMEOUT_MS = 15_000;
const BUILD_TIMEOUT_MS = 300_000;

const MAIN_GO = `// A go-containerregistry registry with the referrers API on, for sigward's integration tests.
package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	listener, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "serving on port %d\\n", listener.Addr().(*net.TCPAddr).Port)
	log.Fatal(http.Serve(listener, registry.New(registry.WithReferrersSupport(true))))
}
`;

function binaryPath(): string {
  const cache = process.env.SIGWARD_CACHE ?? join(homedir(), '.cache', 'sigward');
  return join(cache, 'tools', `ggcr-referrers-registry-${GGCR_VERSION}`, 'bin', 'registry');
}

/** Builds the registry unless the cache has it; the module cache must already hold ggcr (crane's install puts it there). */
export async function referrersRegistryBinary(): Promise<string> {
  const binary = binaryPath();
  if (existsSync(binary)) return binary;
  const go = process.env.SIGWARD_GO ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go');
  const source = makeTempDir('ggcr-registry-src');
  try {
    writeFileSync(join(source.dir, 'main.go'), MAIN_GO);
    writeFileSync(join(source.dir, 'go.mod'), `module sigward.test/referrers-registry\n\ngo 1.24\n\nrequire github.com/google/go-containerregistry ${GGCR_VERSION}\n`);
    mkdirSync(join(binary, '..'), { recursive: true });
    const partial = `${binary}.partial-${process.pid}`;
    const env = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOSUMDB: 'off', GOWORK: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
    try {
      await runChecked(go, ['build', '-o', partial, '.'], { cwd: source.dir, env, timeoutMs: BUILD_TIMEOUT_MS });
    } catch (err) {
      rmSync(partial, { force: true });
      throw new Error(`cannot build the referrers registry from the Go module cache (run: bash scripts/tools.sh crane): ${String(err)}`, { cause: err });
    }
    renameSync(partial, binary);
    return binary;
  } finally {
    source.remove();
  }
}

/** Starts the referrers-capable registry on an OS-chosen loopback port (plain HTTP, in memory). */
export async function startReferrersRegistry(): Promise<TestRegistry> {
  const binary = await referrersRegistryBinary();
  const scratch = makeTempDir('referrers-registry');
  const logFile = join(scratch.dir, 'registry.log');
  const daemon = startDaemon(binary, ['127.0.0.1:0'], { logFile, scratchDir: scratch.dir });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let endpoint: RegistryEndpoint | undefined;
  while (endpoint === undefined && Date.now() < deadline && !daemon.exited()) {
    const port = /serving on port (\d+)/.exec(readLog(logFile))?.[1];
    const candidate: RegistryEndpoint | undefined = port === undefined ? undefined : { host: `127.0.0.1:${port}`, scheme: 'http' };
    if (candidate !== undefined && (await answers(candidate))) endpoint = candidate;
    else await sleep(25);
  }
  if (endpoint === undefined) {
    await daemon.stop();
    const log = readLog(logFile);
    scratch.remove();
    throw new Error(`referrers registry did not start; log:\n${log.slice(-2000)}`);
  }
  return {
    ...endpoint,
    kind: 'crane',
    referrersApi: true,
    logFile,
    pid: daemon.pid,
    dir: scratch.dir,
    async stop() {
      await daemon.stop();
      scratch.remove();
    },
  };
}

async function answers(endpoint: RegistryEndpoint): Promise<boolean> {
  try {
    const response = await registryFetch(endpoint, '/v2/', { anonymous: true });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}
