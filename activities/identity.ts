/**
 * Proven identity: verifies a GitHub Actions OIDC ID token (signature against the issuer's
 * published keys, issuer, audience, expiry, repository, optionally workflow and environment)
 * and answers with the actor it proves. The token itself is never logged nor returned.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { OidcSettings } from '../domain/identity';
import { Unauthorized } from '../domain/errors';

/** GitHub signs its Actions ID tokens with RS256; nothing else is accepted. */
const ALGORITHMS = ['RS256'];
/** Longest token accepted (GitHub's are about 1 KB; anything far larger is not one). */
const MAX_TOKEN = 16 * 1024;

/** What a verified token proves. */
export interface ProvenIdentity {
  actor: string;
  /** Who started this run when it differs from `actor` (a re-run). */
  triggeringActor?: string;
  repository: string;
  workflowRef?: string;
  environment?: string;
  runId?: string;
  /** Seconds since the epoch. */
  expiresAt?: number;
}

export interface OidcVerifierOptions {
  /** Least time between two fetches of the keys (jose's cooldown; default 30 s). */
  cooldownMs?: number;
  /** How long fetched keys are used without asking again (default 10 min). */
  cacheMaxAgeMs?: number;
}

/** A verifier that keeps one key set per JWKS URL: fetched once, refetched when a token names an unknown key. */
export function createOidcVerifier(opts: OidcVerifierOptions = {}) {
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const keysOf = (url: string) => {
    let set = keySets.get(url);
    if (!set) {
      set = createRemoteJWKSet(new URL(url), {
        cooldownDuration: opts.cooldownMs ?? 30_000,
        cacheMaxAge: opts.cacheMaxAgeMs ?? 600_000,
        timeoutDuration: 5_000,
      });
      keySets.set(url, set);
    }
    return set;
  };

  return async function verify(token: unknown, settings: OidcSettings): Promise<ProvenIdentity> {
    if (typeof token !== 'string' || token.length === 0) throw new Unauthorized('the identity token is missing or not text');
    if (token.length > MAX_TOKEN) throw new Unauthorized(`the identity token is ${token.length} characters long; an OIDC ID token is far shorter`);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keysOf(settings.jwksUrl), {
        algorithms: ALGORITHMS,
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: settings.leewaySeconds,
        requiredClaims: ['exp', 'iat', 'repository', 'actor'],
      }));
    } catch (err) {
      // The issuer's keys could not be had: a passing fault, retried like any other.
      if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.code === 'ERR_JOSE_GENERIC') {
        throw new Error(`the issuer's keys at ${settings.jwksUrl} could not be read: ${(err as Error).message}`, { cause: err });
      }
      throw new Unauthorized(`the identity token was refused: ${explain(err, settings)}`);
    }
    const claim = (name: string) => (typeof payload[name] === 'string' ? (payload[name] as string) : undefined);
    const repository = claim('repository') ?? '';
    if (repository.toLowerCase() !== settings.repository.toLowerCase()) {
      throw new Unauthorized(`the identity token was refused: it comes from a workflow of ${repository || 'no repository'}, and only ${settings.repository} may act here`);
    }
    const workflowRef = claim('workflow_ref');
    if (settings.workflowRefs.length && !settings.workflowRefs.includes(workflowRef ?? '')) {
      throw new Unauthorized(`the identity token was refused: it comes from workflow ${workflowRef ?? '(none)'}, and only ${settings.workflowRefs.join(', ')} may act here`);
    }
    const environment = claim('environment');
    if (settings.environments.length && !settings.environments.includes(environment ?? '')) {
      throw new Unauthorized(
        `the identity token was refused: its job ran ${environment ? `in GitHub environment ${environment}` : 'in no GitHub environment'}, and only ${settings.environments.join(', ')} may act here`,
      );
    }
    const actor = claim('actor');
    if (!actor) throw new Unauthorized('the identity token was refused: it names no actor');
    const triggering = claim('triggering_actor');
    return {
      actor,
      ...(triggering && triggering.toLowerCase() !== actor.toLowerCase() && { triggeringActor: triggering }),
      repository,
      ...(workflowRef && { workflowRef }),
      ...(environment && { environment }),
      ...(claim('run_id') && { runId: claim('run_id') }),
      ...(payload.exp !== undefined && { expiresAt: payload.exp }),
    };
  };
}

export type OidcVerifier = ReturnType<typeof createOidcVerifier>;

/** Why jose refused a token, in words that say what to do (never quoting the token). */
function explain(err: errors.JOSEError, s: OidcSettings): string {
  if (err instanceof errors.JWTExpired) return 'it has expired (ID tokens are short-lived: request a fresh one for each call)';
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return `it was not issued by ${s.issuer}`;
      case 'aud':
        return `its audience is not '${s.audience}' (request the token with audience '${s.audience}', as identity.oidc.audience says)`;
      case 'nbf':
      case 'iat':
        return 'it is not valid yet (check the clocks)';
      default:
        return `its '${err.claim}' claim is missing or wrong (${err.reason})`;
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return `it is not signed with ${ALGORITHMS.join(' or ')} (unsigned tokens are never accepted)`;
  if (err instanceof errors.JWKSNoMatchingKey) return `no key of ${s.jwksUrl} signed it (unknown key ID)`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return `its signature does not verify against the keys of ${s.jwksUrl}`;
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return 'it is not a well-formed signed JWT';
  return `it does not verify (${(err as errors.JOSEError).code})`;
}
