/**
 * Maps AWS SDK errors onto Slipway's retry contract: client errors become named,
 * non-retryable failures; throttling, 5xx and network faults stay retryable.
 */
import { ClientRejected, NotFound } from '../domain/errors';

const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServerException',
  'ServiceUnavailable',
  'InternalFailure',
  'TimeoutError',
  'RequestTimeout',
]);

interface AwsLikeError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
}

/** Rethrows `err` in the shape Temporal's retry policy understands. `what` says what was being done. */
export function rethrowAws(err: unknown, what: string, notFoundHint?: string): never {
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  if (RETRYABLE.has(name) || e.$fault === 'server' || (status !== undefined && status >= 500) || status === undefined) {
    // Retryable: keep the AWS name so the history shows what happened.
    const retry = new Error(`${what}: ${name}: ${e.message ?? String(err)}`);
    retry.name = `Aws${name.replace(/Exception$/, '')}`;
    throw retry;
  }
  if (name === 'ServiceNotFoundException' || name === 'ClusterNotFoundException' || name === 'ResourceNotFoundException') {
    throw new NotFound(`${what}: ${e.message ?? name}${notFoundHint ? `. ${notFoundHint}` : ''}`);
  }
  throw new ClientRejected(`${what}: ECS refused the request (${name}): ${e.message ?? ''}`.trim());
}
