/**
 * sigward's own container image, as scripts/image.sh builds it (buildah, `--isolation chroot`),
 * and ways to run it: a working container per run, the image's own entrypoint and user.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked, runCommand, startDaemon, type CommandResult, type Daemon } from './process.js';
import { REPO_ROOT } from './tools.js';

export interface BuiltImage {
  /** The local name, `localhost/sigward:dev`. */
  readonly image: string;
  readonly id: string;
  /** The manifest digest the script's push produced. */
  readonly digest: string;
  readonly size: string;
}

export interface ImageConfig {
  readonly User?: string;
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly WorkingDir?: string;
  readonly Env?: readonly string[];
}

const BUILD_TIMEOUT_MS = 20 * 60_000;

/** Builds the image (instant when it is up to date with the sources) and reads the record. */
export async function buildImage(): Promise<BuiltImage> {
  await runChecked('bash', [join(REPO_ROOT, 'scripts', 'image.sh')], { timeoutMs: BUILD_TIMEOUT_MS, cwd: REPO_ROOT });
  return JSON.parse(readFileSync(join(REPO_ROOT, 'build', 'image.json'), 'utf8')) as BuiltImage;
}

export function buildah(args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  return runCommand('buildah', args, { timeoutMs });
}

export async function buildahChecked(args: readonly string[], timeoutMs = 120_000): Promise<string> {
  return (await runChecked('buildah', args, { timeoutMs })).stdout.trim();
}

export async function imageConfig(image: string): Promise<ImageConfig> {
  const inspected = JSON.parse(await buildahChecked(['inspect', '--type', 'image', image])) as { OCIv1: { config: ImageConfig } };
  return inspected.OCIv1.config;
}

/** A working container of the image with its root file system mounted on the host (for reading). */
export async function mountImage(image: string): Promise<{ readonly root: string; remove(): Promise<void> }> {
  const container = await buildahChecked(['from', '--quiet', '--pull-never', image]);
  const root = await buildahChecked(['mount', container]);
  return { root, remove: async () => { await buildah(['rm', container]); } };
}

export interface RunOptions {
  /** host path → container path, read-only. */
  readonly mounts?: Readonly<Record<string, string>>;
}

function runArgs(container: string, config: ImageConfig, args: readonly string[], options: RunOptions): string[] {
  const mounts = Object.entries(options.mounts ?? {}).flatMap(([host, inside]) => ['-v', `${host}:${inside}:ro`]);
  return ['run', '--isolation', 'chroot', '--user', config.User ?? '', ...mounts, container, '--', ...(config.Entrypoint ?? []), ...args];
}

/** Runs the image's entrypoint with `args`, as the image's user, in a fresh working container. */
export async function runImage(image: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const config = await imageConfig(image);
  const container = await buildahChecked(['from', '--quiet', '--pull-never', image]);
  try {
    return await buildah(runArgs(container, config, args, options));
  } finally {
    await buildah(['rm', container]);
  }
}

/** The entrypoint with `args` as a long-running process (serve); `stop` ends it and its container. */
export async function startImage(image: string, args: readonly string[], logFile: string, options: RunOptions = {}): Promise<{ readonly daemon: Daemon; stop(): Promise<void> }> {
  const config = await imageConfig(image);
  const container = await buildahChecked(['from', '--quiet', '--pull-never', image]);
  const daemon = startDaemon('buildah', runArgs(container, config, args, options), { logFile, env: process.env });
  return {
    daemon,
    stop: async () => {
      await daemon.stop();
      await buildah(['rm', container]);
    },
  };
}
