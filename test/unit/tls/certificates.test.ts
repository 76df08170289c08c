import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { createCertificateAuthority, issueCertificate, loadCertificateAuthority } from '../../../src/tls/certificates.ts';

describe('certificates', () => {
  it('issues a server certificate the CA verifies, with its names', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const issued = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).to.equal(true);
    expect(cert.subjectAltName).to.include('DNS:localhost').and.include('IP Address:127.0.0.1');
    expect(cert.checkIP('127.0.0.1')).to.equal('127.0.0.1');
  });

  it('puts the organization in the subject of a client certificate (Kubernetes groups)', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const issued = await issueCertificate(ca, { commonName: 'admin', organization: 'system:masters', usage: 'client' });
    expect(new X509Certificate(issued.certPem).subject).to.include('O=system:masters').and.include('CN=admin');
  });

  it('reloads a CA from PEM and keeps signing with it', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const reloaded = await loadCertificateAuthority(ca.certPem, ca.keyPem);
    const issued = await issueCertificate(reloaded, { commonName: 'x', usage: 'server', dnsNames: ['x'] });
    expect(new X509Certificate(issued.certPem).verify(new X509Certificate(ca.certPem).publicKey)).to.equal(true);
  });
});
