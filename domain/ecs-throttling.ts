/**
 * ECS's request throttling, as data: every ECS action belongs to one throttling category,
 * and each category is a token bucket per account and Region (ECS API Reference,
 * "Request throttling for the Amazon ECS API": the bucket's maximum capacity is the burst
 * rate, its refill rate the sustained rate). Used by the ECS sandbox (which enforces the
 * buckets) and by the worker's ECS budget (which stays inside a share of them).
 */

/** A token bucket: at most `burst` calls at once, refilled at `perSecond` calls per second. */
export interface BucketLimit {
  burst: number;
  perSecond: number;
}

export const THROTTLING_CATEGORIES = [
  'cluster-read',
  'cluster-modify',
  'service-read',
  'service-deployment-read',
  'service-create',
  'service-update',
  'service-delete',
  'service-deployment-stop',
  'task-definition-read',
  'task-definition-register',
  'task-definition-deregister',
  'task-read',
  'task-launch',
  'tagging',
  'other',
] as const;

export type ThrottlingCategory = (typeof THROTTLING_CATEGORIES)[number];

/**
 * The buckets Slipway assumes for a default account. The service, service deployment,
 * UpdateService and RegisterTaskDefinition figures are the documented ones Slipway's own
 * calls live by; the cluster reads figure is the one the reference's worked example uses.
 * Accounts whose quotas were raised set `aws.ecsApiLimits`.
 */
export const DOCUMENTED_LIMITS: Readonly<Record<ThrottlingCategory, BucketLimit>> = {
  'cluster-read': { burst: 50, perSecond: 20 },
  'cluster-modify': { burst: 20, perSecond: 1 },
  'service-read': { burst: 100, perSecond: 20 },
  'service-deployment-read': { burst: 50, perSecond: 20 },
  'service-create': { burst: 20, perSecond: 1 },
  'service-update': { burst: 50, perSecond: 5 },
  'service-delete': { burst: 20, perSecond: 1 },
  'service-deployment-stop': { burst: 20, perSecond: 1 },
  'task-definition-read': { burst: 100, perSecond: 20 },
  'task-definition-register': { burst: 20, perSecond: 1 },
  'task-definition-deregister': { burst: 20, perSecond: 1 },
  'task-read': { burst: 100, perSecond: 20 },
  'task-launch': { burst: 100, perSecond: 40 },
  tagging: { burst: 50, perSecond: 20 },
  other: { burst: 50, perSecond: 20 },
};

const CATEGORY_OF: Readonly<Record<string, ThrottlingCategory>> = {
  DescribeClusters: 'cluster-read',
  ListClusters: 'cluster-read',
  CreateCluster: 'cluster-modify',
  DeleteCluster: 'cluster-modify',
  UpdateCluster: 'cluster-modify',
  UpdateClusterSettings: 'cluster-modify',
  PutClusterCapacityProviders: 'cluster-modify',
  DescribeServices: 'service-read',
  ListServices: 'service-read',
  ListServicesByNamespace: 'service-read',
  DescribeServiceDeployments: 'service-deployment-read',
  ListServiceDeployments: 'service-deployment-read',
  DescribeServiceRevisions: 'service-deployment-read',
  CreateService: 'service-create',
  UpdateService: 'service-update',
  DeleteService: 'service-delete',
  StopServiceDeployment: 'service-deployment-stop',
  // Answering a lifecycle hook acts on a running service deployment, as stopping one does.
  ContinueServiceDeployment: 'service-deployment-stop',
  DescribeTaskDefinition: 'task-definition-read',
  ListTaskDefinitions: 'task-definition-read',
  ListTaskDefinitionFamilies: 'task-definition-read',
  RegisterTaskDefinition: 'task-definition-register',
  DeregisterTaskDefinition: 'task-definition-deregister',
  DeleteTaskDefinitions: 'task-definition-deregister',
  DescribeTasks: 'task-read',
  ListTasks: 'task-read',
  RunTask: 'task-launch',
  StartTask: 'task-launch',
  StopTask: 'task-launch',
  TagResource: 'tagging',
  UntagResource: 'tagging',
  ListTagsForResource: 'tagging',
};

/** The throttling category of an ECS action (`DescribeServices` → `service-read`). */
export function categoryOf(operation: string): ThrottlingCategory {
  return Object.hasOwn(CATEGORY_OF, operation) ? CATEGORY_OF[operation] : 'other';
}

/** The documented limits with `overrides` applied (a category left out keeps its default). */
export function limitsWith(overrides: Partial<Record<ThrottlingCategory, BucketLimit>> = {}): Record<ThrottlingCategory, BucketLimit> {
  const out = { ...DOCUMENTED_LIMITS } as Record<ThrottlingCategory, BucketLimit>;
  for (const [k, v] of Object.entries(overrides)) if (v) out[k as ThrottlingCategory] = { ...v };
  return out;
}

/**
 * A token bucket over an injected clock (ms). `scale` speeds refill up, for sandboxes that
 * run time faster than the wall clock; the burst stays what it is.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    public limit: BucketLimit,
    private readonly now: () => number = Date.now,
    public scale = 1,
  ) {
    this.tokens = limit.burst;
    this.last = now();
  }

  /** Tokens available now (fractional). */
  available(): number {
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((t - this.last) / 1000) * this.limit.perSecond * this.scale);
    this.last = t;
    return this.tokens;
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    if (this.available() < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is available (0 when one is). */
  msUntilToken(): number {
    const have = this.available();
    if (have >= 1) return 0;
    const rate = this.limit.perSecond * this.scale;
    return rate > 0 ? Math.ceil(((1 - have) / rate) * 1000) : Number.POSITIVE_INFINITY;
  }

  /** Changes the limit; tokens above the new burst are dropped. */
  resize(limit: BucketLimit): void {
    this.available();
    this.limit = limit;
    this.tokens = Math.min(this.tokens, limit.burst);
  }
}
