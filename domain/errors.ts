/**
 * Slipway's error classes. The class name is the retry contract: activities throw these,
 * Temporal records the class name as the failure type, and the workflows' retry policies
 * list the non-retryable ones by name (see workflows/profiles.ts).
 */

/** The caller asked for something wrong: unknown app/env, malformed tag, bad config. Never retried. */
export class BadInput extends Error {
  override name = 'BadInput';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

/** Something the request depends on does not exist (template, image tag, service). Never retried. */
export class NotFound extends Error {
  override name = 'NotFound';
}

/** The actor is not allowed to do this. Never retried. */
export class Unauthorized extends Error {
  override name = 'Unauthorized';
}

/** An outside API answered with a client error (4xx other than throttling). Never retried. */
export class ClientRejected extends Error {
  override name = 'ClientRejected';
}

/** Failure type names that retry policies must not retry. */
export const NON_RETRYABLE = ['BadInput', 'NotFound', 'Unauthorized', 'ClientRejected', 'VersionMismatch'] as const;
