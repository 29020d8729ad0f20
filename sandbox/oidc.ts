/**
 * A stand-in for GitHub Actions' OIDC issuer (token.actions.githubusercontent.com): its own
 * RSA keys, a discovery document and a JWKS endpoint over real HTTP, tokens with GitHub's
 * claims minted on request, and key rotation. It also answers like the Actions runtime's
 * token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN), so the
 * CLI can be run as it runs inside a GitHub Actions job.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface GitHubClaims {
  iss: string;
  aud: string;
  sub: string;
  repository: string;
  repository_owner: string;
  actor: string;
  triggering_actor: string;
  workflow_ref: string;
  ref: string;
  event_name: string;
  run_id: string;
  environment?: string;
  [claim: string]: unknown;
}

export interface MintOptions {
  /** Seconds until `exp` (negative: already expired). Default 300. */
  expiresIn?: number;
  /** Sign with a key the JWKS does not publish, under the current key ID (a forged signature). */
  foreignKey?: boolean;
  /** Sign with a key the JWKS does not publish, under its own key ID. */
  unknownKid?: boolean;
  /** An unsigned token (`alg: none`). */
  unsigned?: boolean;
}

export interface OidcIssuer {
  /** The issuer (`iss`) and base URL. */
  url: string;
  jwksUrl: string;
  /** How many times the JWKS was fetched. */
  jwksFetches(): number;
  /** A token with GitHub's claims for `actor` (claims override the defaults). */
  mint(actor: string, claims?: Partial<GitHubClaims>, opts?: MintOptions): Promise<string>;
  /** A new signing key; the old one stays published unless `retireOld`. */
  rotate(opts?: { retireOld?: boolean }): Promise<void>;
  /** Environment variables that make a CLI believe it runs in a job of `actor` with `id-token: write`. */
  actionsEnv(actor: string, claims?: Partial<GitHubClaims>): Record<string, string>;
  /** Tokens handed out through the runtime endpoint. */
  requests(): { audience: string; actor: string }[];
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export const DEFAULT_REPOSITORY = 'WordPress/openverse';

export async function startOidcIssuer(opts: { repository?: string } = {}): Promise<OidcIssuer> {
  const repository = opts.repository ?? DEFAULT_REPOSITORY;
  let keys: SigningKey[] = [await newKey()];
  let fetches = 0;
  const jobs = new Map<string, { actor: string; claims: Partial<GitHubClaims> }>();
  const handedOut: { audience: string; actor: string }[] = [];
  let url = '';

  const claimsFor = (actor: string, claims: Partial<GitHubClaims> = {}): GitHubClaims => ({
    iss: url,
    aud: 'slipway',
    sub: `repo:${repository}:ref:refs/heads/main`,
    repository,
    repository_owner: repository.split('/')[0],
    actor,
    triggering_actor: actor,
    workflow_ref: `${repository}/.github/workflows/production.yml@refs/heads/main`,
    ref: 'refs/heads/main',
    event_name: 'workflow_dispatch',
    run_id: String(1_000_000 + Math.floor(Math.random() * 1_000_000)),
    ...claims,
  });

  const mint = async (actor: string, claims: Partial<GitHubClaims> = {}, o: MintOptions = {}): Promise<string> => {
    const body = claimsFor(actor, claims);
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (o.expiresIn ?? 300);
    if (o.unsigned) {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...body, iat: now, nbf: now, exp, jti: randomUUID() })}.`;
    }
    const current = keys[keys.length - 1];
    const signer = o.foreignKey || o.unknownKid ? await newKey() : current;
    const kid = o.foreignKey ? current.kid : signer.kid;
    return new SignJWT({ ...body })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuedAt(Math.min(now, exp - 1))
      .setNotBefore(Math.min(now, exp - 1))
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signer.privateKey);
  };

  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/.well-known/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['id_token'],
        subject_types_supported: ['public', 'pairwise'],
      });
    }
    if (u.pathname === '/.well-known/jwks') {
      fetches++;
      return json(200, { keys: keys.map((k) => k.publicJwk) });
    }
    if (u.pathname === '/_actions/token') {
      // The Actions runtime's token endpoint: bearer request token in, { value } out.
      const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const job = bearer ? jobs.get(bearer) : undefined;
      if (!job) return json(401, { message: 'bad request token' });
      const audience = u.searchParams.get('audience') ?? 'https://github.com/' + repository.split('/')[0];
      handedOut.push({ audience, actor: job.actor });
      void mint(job.actor, { ...job.claims, aud: audience }).then(
        (value) => json(200, { value }),
        (err) => json(500, { message: String(err) }),
      );
      return;
    }
    json(404, { message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    jwksUrl: `${url}/.well-known/jwks`,
    jwksFetches: () => fetches,
    mint,
    async rotate(o = {}) {
      const key = await newKey();
      keys = o.retireOld ? [key] : [...keys, key];
    },
    actionsEnv(actor, claims = {}) {
      const requestToken = randomBytes(16).toString('hex');
      jobs.set(requestToken, { actor, claims });
      return {
        GITHUB_ACTIONS: 'true',
        GITHUB_ACTOR: actor,
        ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/_actions/token?api-version=2.0`,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      };
    },
    requests: () => [...handedOut],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
