import { readFile } from 'node:fs/promises';
import { load as loadYaml } from 'js-yaml';

/** A JSON or YAML document a flag names (an emulator config, faults); undefined when no file is given. */
export async function readDocument(file: string | undefined): Promise<unknown> {
  return file ? loadYaml(await readFile(file, 'utf8')) : undefined;
}
