import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * Parses controller-runtime's bind addresses: ":8080" (all interfaces), "127.0.0.1:0", "[::1]:8081".
 * "0" disables the server, as in controller-runtime; undefined is returned for it.
 */
export function parseBindAddress(address: string): { host: string | undefined; port: number } | undefined {
  if (address === '0') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid bind address ${JSON.stringify(address)}: use HOST:PORT or :PORT, or 0 to disable`);
  const host = m[1] ?? m[2];
  return { host: host ? host : undefined, port: Number(m[3]) };
}

/** An HTTP (or, given a certificate, HTTPS) server answering a few fixed paths; everything else is 404. */
export class HttpEndpoint {
  readonly #server: Server;

  constructor(routes: Record<string, Handler>, tls?: { certPem: string; keyPem: string }) {
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0] as string;
      const handler = routes[path];
      if (!handler || req.method !== 'GET') {
        res.writeHead(404).end('not found\n');
        return;
      }
      Promise.resolve(handler(req, res)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(`${String(err)}\n`);
      });
    };
    this.#server = tls ? createTlsServer({ cert: tls.certPem, key: tls.keyPem }, serve) : createServer(serve);
  }

  async listen(address: { host: string | undefined; port: number }): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(address.port, address.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return this.#server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
