// The standalone emulator's admin token: made once, kept next to its state file and CA, so that a
// restart (or the operator, given the file) keeps using it. A file someone else put there (the Helm
// chart mounts one from its Secret) is used as it is.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = 'emulator-token';

export interface AdminToken {
  token: string;
  file: string;
  /** Made now: nobody else knows it yet, so it is worth printing. */
  generated: boolean;
}

export async function adminToken(directory: string): Promise<AdminToken> {
  const file = join(directory, ADMIN_TOKEN_FILE);
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return { token, file, generated: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, file, generated: true };
}
