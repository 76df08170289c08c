import { CommandError, runCommand, type CommandOptions } from './command.ts';

/** Docker when a Docker engine answers, else Podman: both take the same build and run arguments used here. */
export interface ContainerEngine {
  name: 'docker' | 'podman';
  /** Runs `<engine> args...` and resolves with its stdout. */
  run(args: readonly string[], options?: CommandOptions): Promise<string>;
}

export type EngineSearch = { engine: ContainerEngine; missing?: undefined } | { engine?: undefined; missing: string };

/** Podman's failures on machines like CI's, which its configuration fixes (deploy/README.md, "The image"). */
const PODMAN_MACHINE_PROBLEM = /error setting rlimit|cgroups in hybrid mode/;

function engine(name: ContainerEngine['name']): ContainerEngine {
  return {
    name,
    run: (args, options) =>
      runCommand(name, args, options).catch((err: Error) => {
        if (name !== 'podman' || !PODMAN_MACHINE_PROBLEM.test(err.message)) throw err;
        throw new Error(`${err.message}\nPodman needs runc and rlimits this machine allows: point CONTAINERS_CONF at a file with them (deploy/README.md, "The image"; .ci/run writes one)`, { cause: err });
      }),
  };
}

/** Why a probe failed, in one line: "not on PATH", or the first line the command printed. */
function reason(err: unknown): string {
  if (err instanceof CommandError) return err.outputTail.split('\n')[0] || err.exit;
  return String(err);
}

/**
 * The engine that builds and runs the image. A `docker` client alone is not enough (these machines
 * have the CLI without an engine): its server must answer. Podman needs no daemon.
 */
export async function findContainerEngine(): Promise<EngineSearch> {
  const docker = engine('docker');
  const podman = engine('podman');
  let dockerProblem: string;
  try {
    await docker.run(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
    return { engine: docker };
  } catch (err) {
    dockerProblem = reason(err);
  }
  try {
    await podman.run(['version', '--format', '{{.Client.Version}}'], { timeoutMs: 15_000 });
    return { engine: podman };
  } catch (err) {
    return {
      missing: `no container engine: docker: ${dockerProblem}; podman: ${reason(err)}. Install Podman (Debian: apt-get install podman runc mmdebstrap) or start a Docker engine.`,
    };
  }
}

/** Whether the engine holds an image of this name locally. */
export async function hasImage(engine: ContainerEngine, image: string): Promise<boolean> {
  try {
    await engine.run(['image', 'inspect', '--format', '{{.Id}}', image]);
    return true;
  } catch {
    return false;
  }
}

/** The image's size as the engine reports it (uncompressed, all layers), in bytes. */
export async function imageSize(engine: ContainerEngine, image: string): Promise<number> {
  return Number((await engine.run(['image', 'inspect', '--format', '{{.Size}}', image])).trim());
}
