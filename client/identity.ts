/**
 * The proof of who is asking. Inside a GitHub Actions job with `permissions: id-token:
 * write`, GitHub sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN; the
 * CLI asks that endpoint for an ID token with the audience the config names and sends it
 * with the request, where the worker verifies it. The token is never printed.
 */
import type { Context } from './context';
import { UsageError } from './errors';

/** An ID token for this request, or undefined outside GitHub Actions (or without id-token: write). */
export async function idTokenOf(ctx: Context): Promise<string | undefined> {
  const url = ctx.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = ctx.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  const oidc = ctx.config().identity.oidc;
  if (!url || !requestToken || !oidc) return undefined;
  const target = new URL(url);
  target.searchParams.set('audience', oidc.audience);
  let res: Response;
  try {
    res = await fetch(target, { headers: { authorization: `bearer ${requestToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new UsageError(`could not request a GitHub Actions ID token from ${target.origin}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
  if (!res.ok || typeof body?.value !== 'string') {
    throw new UsageError(`could not get a GitHub Actions ID token (HTTP ${res.status} from ${target.origin}): does the job have \`permissions: id-token: write\`?`);
  }
  return body.value;
}
