/** Errors the CLI reports without a stack: the user asked for something it cannot do. */
export class UsageError extends Error {
  override name = 'BadInput';
}

export class Unreachable extends Error {
  override name = 'Unreachable';
}
