// Builds the operator image from the repository's Dockerfile, as a user with Docker would, on
// machines with only Podman and no registry too: when the pinned base cannot be pulled, the build
// gets a local stand-in through the Dockerfile's BASE_IMAGE argument, and says so.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasImage, imageSize, type ContainerEngine } from './engine.ts';
import { standInBase } from './stand-in.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `lab-image-operator:<version>`: the name the Helm chart and deploy/ run by default. */
export async function defaultImageName(): Promise<string> {
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return `lab-image-operator:${version}`;
}

/** The default of each global `ARG NAME=value` (before the first FROM). */
export function dockerfileArgs(dockerfile: string): Record<string, string> {
  const header = dockerfile.split(/^FROM /m)[0] ?? '';
  return Object.fromEntries([...header.matchAll(/^ARG ([A-Z_]+)=(\S+)$/gm)].map((match) => match.slice(1, 3)));
}

export interface ImageBuildOptions {
  engine: ContainerEngine;
  /** Default: defaultImageName(). */
  image?: string;
  /** What a person reads: where the base came from, how long it took. */
  log: (line: string) => void;
  /** Every line the engine prints while building (a person watching `npm run image`). */
  onLine?: (line: string) => void;
}

export interface ImageBuild {
  image: string;
  /** The base image the build used: the Dockerfile's pinned one, or a local stand-in. */
  base: string;
  standIn: boolean;
  sizeBytes: number;
  seconds: number;
}

/** The pinned base when the engine has it or can pull it; else the stand-in (built once). */
async function baseImage(options: ImageBuildOptions, pinned: string, nodeVersion: string): Promise<{ base: string; standIn: boolean }> {
  const { engine, log, onLine } = options;
  if (await hasImage(engine, pinned)) return { base: pinned, standIn: false };
  try {
    await engine.run(['pull', pinned], { timeoutMs: 300_000, onLine });
    return { base: pinned, standIn: false };
  } catch (err) {
    const lastLine = (err as Error).message.split('\n').findLast((line) => line.trim()) ?? '';
    log(`cannot pull ${pinned} (${lastLine.trim()}): building on a local stand-in made from Debian packages and the npm registry's Node.js ${nodeVersion} instead`);
  }
  return { base: await standInBase(engine, { nodeVersion, log, onLine }), standIn: true };
}

export async function buildImage(options: ImageBuildOptions): Promise<ImageBuild> {
  const { engine, log, onLine } = options;
  const image = options.image ?? (await defaultImageName());
  const started = Date.now();
  const { BASE_IMAGE: pinned, NODE_VERSION: nodeVersion } = dockerfileArgs(await readFile(join(repoRoot, 'Dockerfile'), 'utf8'));
  if (!pinned || !nodeVersion) throw new Error('the Dockerfile must declare ARG BASE_IMAGE=... and ARG NODE_VERSION=... before its first FROM');
  const { base, standIn } = await baseImage(options, pinned, nodeVersion);

  log(`building ${image} from Dockerfile with ${engine.name}${standIn ? ` on ${base}` : ''}`);
  await engine.run(
    [
      'build',
      '--tag', image,
      ...(standIn ? ['--build-arg', `BASE_IMAGE=${base}`] : []),
      // The base is local by now; Podman must not look for it (or for a newer one) in a registry.
      ...(engine.name === 'podman' ? ['--pull=never'] : []),
      repoRoot,
    ],
    { onLine },
  );
  const build = { image, base, standIn, sizeBytes: await imageSize(engine, image), seconds: (Date.now() - started) / 1000 };
  log(`built ${image} with ${engine.name} in ${Math.round(build.seconds)} s: ${formatMegabytes(build.sizeBytes)}`);
  return build;
}

export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}
