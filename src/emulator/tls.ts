import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, loadCertificateAuthority } from '../tls/certificates.ts';

export interface EmulatorTls {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Where the CA certificate was written; absent for an emulator without a state directory. */
  caFile?: string;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function issueServing(ca: Awaited<ReturnType<typeof createCertificateAuthority>>) {
  return issueCertificate(ca, { commonName: 'labimages-arm-emulator', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'], usage: 'server' });
}

/**
 * The emulator's CA and serving certificate. With a directory, they live there next to the state
 * file and are reused on restart, so clients that trust the CA keep trusting the emulator.
 */
export async function emulatorTls(directory: string | undefined): Promise<EmulatorTls> {
  if (!directory) {
    const ca = await createCertificateAuthority('labimages ARM emulator CA');
    const serving = await issueServing(ca);
    return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
  }
  const files = {
    ca: join(directory, 'emulator-ca.pem'),
    caKey: join(directory, 'emulator-ca-key.pem'),
    cert: join(directory, 'emulator-tls.pem'),
    key: join(directory, 'emulator-tls-key.pem'),
  };
  const [caPem, caKeyPem, certPem, keyPem] = await Promise.all([files.ca, files.caKey, files.cert, files.key].map(readIfPresent));
  if (caPem && caKeyPem && certPem && keyPem) return { caPem, certPem, keyPem, caFile: files.ca };

  const ca = caPem && caKeyPem ? await loadCertificateAuthority(caPem, caKeyPem) : await createCertificateAuthority('labimages ARM emulator CA');
  const serving = await issueServing(ca);
  await writeFile(files.caKey, ca.keyPem, { mode: 0o600 });
  await writeFile(files.ca, ca.certPem, { mode: 0o644 });
  await writeFile(files.key, serving.keyPem, { mode: 0o600 });
  await writeFile(files.cert, serving.certPem, { mode: 0o644 });
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, caFile: files.ca };
}
