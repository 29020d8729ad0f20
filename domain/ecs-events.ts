/**
 * ECS's events as EventBridge delivers them (to an SQS queue, one event per message body):
 * which service an event is about, and what a deploy watching that service needs of it.
 * Pure: the worker's consumer (activities/ecs-events.ts) reads and routes; this reads one body.
 */
import type { EcsEventNotice } from '../contract';

/** The detail types a rollout watch uses; other ECS events (task state changes …) are not routed. */
export const WATCHED_DETAIL_TYPES = ['ECS Deployment State Change', 'ECS Service Action'] as const;

/**
 * Whether an event is worth a look at the rollout: every one but "in progress" (which only
 * says what the update already said). A look confirms what the event says, by reading.
 */
export function wantsLook(eventName: string): boolean {
  return eventName !== 'SERVICE_DEPLOYMENT_IN_PROGRESS';
}

/** Whether an event says the service deployment ended (completed, or failed and maybe rolling back). */
export function endsDeployment(eventName: string): boolean {
  return eventName === 'SERVICE_DEPLOYMENT_COMPLETED' || eventName === 'SERVICE_DEPLOYMENT_FAILED';
}

export interface RoutableEvent {
  region: string;
  /** Absent for services with an old-format ARN (`service/<name>`) whose event names no cluster. */
  cluster?: string;
  service: string;
  notice: Omit<EcsEventNotice, 'routedAt'>;
}

/**
 * An SQS message body → the event, or why it is not one to route (not JSON, not from ECS,
 * a detail type no watch uses, no service ARN).
 */
export function parseEcsEvent(body: string): RoutableEvent | { skip: string } {
  let e: unknown;
  try {
    e = JSON.parse(body);
  } catch {
    return { skip: 'not JSON' };
  }
  if (!isObject(e)) return { skip: 'not an EventBridge event' };
  if (e.source !== 'aws.ecs') return { skip: `source ${String(e.source)}, not aws.ecs` };
  const detailType = String(e['detail-type'] ?? '');
  if (!(WATCHED_DETAIL_TYPES as readonly string[]).includes(detailType)) return { skip: `detail-type ${detailType} is not watched` };
  const detail = isObject(e.detail) ? e.detail : {};
  const resources = Array.isArray(e.resources) ? e.resources.map(String) : [];
  const arn = resources.map(parseServiceArn).find((a) => a !== undefined);
  if (!arn) return { skip: `${detailType} names no ECS service` };
  const clusterFromDetail = typeof detail.clusterArn === 'string' ? detail.clusterArn.split('/').pop() : undefined;
  const id = typeof e.id === 'string' && e.id ? e.id : undefined;
  const name = typeof detail.eventName === 'string' ? detail.eventName : undefined;
  if (!id || !name) return { skip: `${detailType} without an id or eventName` };
  const at = [detail.updatedAt, detail.createdAt, e.time].find((t): t is string => typeof t === 'string' && !Number.isNaN(Date.parse(t)));
  return {
    region: arn.region || String(e.region ?? ''),
    ...((arn.cluster ?? clusterFromDetail) !== undefined && { cluster: arn.cluster ?? clusterFromDetail }),
    service: arn.service,
    notice: {
      id,
      detailType,
      name,
      ...(typeof detail.deploymentId === 'string' && { deploymentId: detail.deploymentId }),
      ...(typeof detail.reason === 'string' && detail.reason && { reason: detail.reason }),
      at: at ?? new Date(0).toISOString(),
    },
  };
}

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<service>` (or the old `service/<service>`). */
export function parseServiceArn(arn: string): { region: string; cluster?: string; service: string } | undefined {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]*):\d*:service\/(?:([^/]+)\/)?([^/]+)$/.exec(arn);
  if (!m) return undefined;
  return { region: m[1], ...(m[2] !== undefined && { cluster: m[2] }), service: m[3] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
