import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import type { PrincipalConfig } from './config.ts';

/** How long an issued access token lives: Entra's usual hour. */
export const tokenLifetimeSeconds = 3599;

/** What an issued token says of its holder. */
export interface TokenClaims {
  oid: string;
  tid: string;
  appid?: string;
}

export type Verification = { valid: true; claims: TokenClaims } | { valid: false; expiredAt?: number };

/**
 * Signs and checks the access tokens the emulator's token endpoint issues: JWTs signed with the
 * emulator's serving key (kept next to the state file), so tokens outlive a restart as Entra's do.
 * The emulator makes EC keys; a certificate given to it (the Helm chart's) may hold an RSA key,
 * which signs RS256, as Entra's own keys do.
 */
export class TokenIssuer {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #kid: string;
  readonly #alg: 'ES256' | 'RS256';

  constructor(keyPem: string) {
    this.#privateKey = createPrivateKey(keyPem);
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#kid = createHash('sha256').update(this.#publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 16);
    this.#alg = this.#privateKey.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256';
  }

  /** The algorithm its tokens are signed with, for the OpenID configuration. */
  get algorithm(): string {
    return this.#alg;
  }

  issue(principal: PrincipalConfig, issuer: string, audience: string, nowMs: number): Promise<string> {
    const now = Math.floor(nowMs / 1000);
    return new SignJWT({ oid: principal.objectId, tid: principal.tenantId, sub: principal.objectId, ...(principal.clientId ? { appid: principal.clientId } : {}) })
      .setProtectedHeader({ alg: this.#alg, typ: 'JWT', kid: this.#kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + tokenLifetimeSeconds)
      .sign(this.#privateKey);
  }

  async verify(token: string, nowMs: number): Promise<Verification> {
    try {
      const { payload } = await jwtVerify(token, this.#publicKey, { currentDate: new Date(nowMs), algorithms: [this.#alg] });
      if (typeof payload.oid !== 'string' || typeof payload.tid !== 'string') return { valid: false };
      return { valid: true, claims: { oid: payload.oid, tid: payload.tid, ...(typeof payload.appid === 'string' ? { appid: payload.appid } : {}) } };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired && typeof error.payload.exp === 'number') return { valid: false, expiredAt: error.payload.exp * 1000 };
      return { valid: false };
    }
  }

  /** The JSON Web Key Set the discovery document points at. */
  async keys(): Promise<{ keys: JWK[] }> {
    return { keys: [{ ...(await exportJWK(this.#publicKey)), kid: this.#kid, use: 'sig', alg: this.#alg }] };
  }
}
