/**
 * Shared pieces of the ECS sandbox: account constants, ARN builders, ids, the wire error
 * type and pagination tokens.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Tag } from '@aws-sdk/client-ecs';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '123456789012';
const PREFIX = `arn:aws:ecs:${REGION}:${ACCOUNT_ID}`;

/** The `X-Amz-Target` prefix of every ECS operation. */
export const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

/**
 * An SDK model with its timestamps as they travel on the wire (epoch seconds), so that
 * response builders are type-checked against the SDK's own shapes.
 */
export type Wire<T> = T extends Date ? number : T extends readonly (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/** Error types the sandbox answers with; the SDK maps `__type` to `err.name`. */
export type EcsErrorType =
  | 'ClientException'
  | 'InvalidParameterException'
  | 'ServiceNotFoundException'
  | 'ClusterNotFoundException'
  | 'ServiceDeploymentNotFoundException'
  | 'ThrottlingException'
  | 'ServerException'
  | 'UnknownOperationException'
  | 'SerializationException';

/** An error answered to the client as `{"__type": type, "message": message}`. */
export class EcsError extends Error {
  constructor(
    readonly type: EcsErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const arns = {
  cluster: (cluster: string) => `${PREFIX}:cluster/${cluster}`,
  service: (cluster: string, service: string) => `${PREFIX}:service/${cluster}/${service}`,
  taskDefinition: (family: string, revision: number) => `${PREFIX}:task-definition/${family}:${revision}`,
  task: (cluster: string, taskId: string) => `${PREFIX}:task/${cluster}/${taskId}`,
  container: (cluster: string, taskId: string, containerId: string) => `${PREFIX}:container/${cluster}/${taskId}/${containerId}`,
  serviceDeployment: (cluster: string, service: string, id: string) => `${PREFIX}:service-deployment/${cluster}/${service}/${id}`,
  serviceRevision: (cluster: string, service: string, id: string) => `${PREFIX}:service-revision/${cluster}/${service}/${id}`,
  targetGroup: (name: string) => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT_ID}:targetgroup/${name}/${hex(8)}`,
};

/** The part of an ARN after its last `/` (or the string itself when it has none). */
export function lastSegment(value: string): string {
  const i = value.lastIndexOf('/');
  return i < 0 ? value : value.slice(i + 1);
}

/** Random lowercase hex of `bytes` bytes. */
export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** A task id as ECS prints it: 32 hex characters. */
export function taskId(): string {
  return hex(16);
}

/** A 19-digit numeric id, the form of `ecs-svc/...` deployment ids and service revision ids. */
export function numericId(): string {
  const n = randomBytes(8).readBigUInt64BE() % 9_000_000_000_000_000_000n;
  return (n + 1_000_000_000_000_000_000n).toString();
}

/** A service deployment id, like `NCWGC2ZR-taO6ynwdC5Skk`. */
export function serviceDeploymentId(): string {
  return randomBytes(16).toString('base64url').slice(0, 22);
}

export function uuid(): string {
  return randomUUID();
}

/** A stable, fake image digest for an image reference. */
export function imageDigest(image: string): string {
  return `sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** Epoch milliseconds → the wire's epoch seconds. */
export function seconds(ms: number): number;
export function seconds(ms: number | undefined): number | undefined;
export function seconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

/** A wire timestamp (epoch seconds, or an ISO string) → epoch milliseconds. */
export function wireTimeToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** Opaque pagination token around a JSON value. */
export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeToken<T>(token: string | undefined, check: (v: unknown) => v is T): T | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    // fall through
  }
  throw new EcsError('InvalidParameterException', 'Invalid nextToken.');
}

/** Validates a page size against ECS's 1..100 range. */
export function pageSize(maxResults: unknown, fallback: number): number {
  if (maxResults === undefined || maxResults === null) return fallback;
  if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
    throw new EcsError('InvalidParameterException', 'maxResults must be between 1 and 100.');
  }
  return maxResults;
}

/** Checks and copies a tag list (`[{key, value}]`). */
export function checkTags(tags: unknown): Tag[] {
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags)) throw new EcsError('InvalidParameterException', 'tags must be a list.');
  if (tags.length > 50) throw new EcsError('InvalidParameterException', 'Too many tags: at most 50 are allowed.');
  return tags.map((t: unknown) => {
    const tag = t as Tag;
    if (!tag || typeof tag.key !== 'string' || tag.key.length === 0 || tag.key.length > 128) {
      throw new EcsError('InvalidParameterException', 'Tag keys must be between 1 and 128 characters.');
    }
    if (tag.value !== undefined && (typeof tag.value !== 'string' || tag.value.length > 256)) {
      throw new EcsError('InvalidParameterException', `Tag value for ${tag.key} must be a string of at most 256 characters.`);
    }
    return { key: tag.key, value: tag.value ?? '' };
  });
}

/** Merges `add` into `tags` by key (later wins). */
export function mergeTags(tags: Tag[], add: Tag[]): Tag[] {
  const byKey = new Map(tags.map((t) => [t.key, t] as const));
  for (const t of add) byKey.set(t.key, t);
  return [...byKey.values()];
}

/** Deep copy of a JSON value. */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
