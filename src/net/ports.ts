import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago. For servers we do not run in-process (etcd,
 * kube-apiserver), which must be told a port; in-process servers listen on port 0 instead.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
