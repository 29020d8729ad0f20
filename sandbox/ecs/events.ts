/**
 * The events ECS sends to EventBridge, as an EventBridge rule with an SQS target delivers
 * them: each event in EventBridge's envelope is the body of one SQS message, sent with the
 * real `@aws-sdk/client-sqs` (to moto's SQS in the sandbox). Delivery can be made unreliable
 * the way EventBridge is allowed to be (events dropped, duplicated, late), with a seed so a
 * run repeats.
 *
 * Shapes: "Amazon ECS service deployment state change events" and "Amazon ECS service action
 * events" in the ECS Developer Guide.
 */
import { randomUUID } from 'node:crypto';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { seededRandom } from '../random';
import { ACCOUNT_ID, REGION } from './common';

export type DeploymentEventName = 'SERVICE_DEPLOYMENT_IN_PROGRESS' | 'SERVICE_DEPLOYMENT_COMPLETED' | 'SERVICE_DEPLOYMENT_FAILED';
export type ServiceActionEventName = 'SERVICE_STEADY_STATE' | 'SERVICE_TASK_START_IMPAIRED';

/** `detail` of an "ECS Deployment State Change" event. */
export interface DeploymentStateChangeDetail {
  eventType: 'INFO' | 'ERROR';
  eventName: DeploymentEventName;
  /** The `ecs-svc/...` id of the deployment, as DescribeServices lists it in `deployments[].id`. */
  deploymentId: string;
  /** ISO 8601. */
  updatedAt: string;
  reason: string;
}

/** `detail` of an "ECS Service Action" event. */
export interface ServiceActionDetail {
  eventType: 'INFO' | 'WARN' | 'ERROR';
  eventName: ServiceActionEventName;
  clusterArn: string;
  /** ISO 8601. */
  createdAt: string;
}

/** What the simulator reports; the envelope is added when it is sent. */
export type EcsEventInput =
  | { detailType: 'ECS Deployment State Change'; serviceArn: string; detail: DeploymentStateChangeDetail }
  | { detailType: 'ECS Service Action'; serviceArn: string; detail: ServiceActionDetail };

/** An event as EventBridge delivers it to an SQS target (the message body, as JSON). */
export interface EcsEvent {
  version: '0';
  id: string;
  'detail-type': EcsEventInput['detailType'];
  source: 'aws.ecs';
  account: string;
  /** ISO 8601, whole seconds. */
  time: string;
  region: string;
  /** The service ARN. */
  resources: string[];
  detail: DeploymentStateChangeDetail | ServiceActionDetail;
}

export interface EcsEventsOptions {
  sqs: { endpoint: string; region: string; queueUrl: string };
  /** Fractions in [0,1]: events not sent at all / sent twice; default 0. */
  dropFraction?: number;
  duplicateFraction?: number;
  /** Each event is sent this many ms late (uniform in [min,max]); default [0,0]. */
  delayMs?: [number, number];
  /** Seed for the fault choices (sandbox/random.ts), so runs are reproducible. Default 1. */
  seed?: number;
}

/**
 * Counts since publishing was turned on. `published`: SendMessage calls that succeeded
 * (a duplicated event counts twice), i.e. the messages that reached the queue. `dropped`:
 * events not sent. `duplicated`: events sent a second time. `delayed`: events sent late.
 * `failed`: SendMessage calls that failed (the event is then lost).
 */
export interface EcsEventStats {
  published: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  failed: number;
}

/** SendMessage calls in flight at most, across services (moto answers one at a time anyway). */
const MAX_IN_FLIGHT = 4;

/** Wraps a simulator event in EventBridge's envelope. */
export function envelope(input: EcsEventInput, at = new Date()): EcsEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': input.detailType,
    source: 'aws.ecs',
    account: ACCOUNT_ID,
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [input.serviceArn],
    detail: input.detail,
  };
}

/** Checks publishing options; throws naming the wrong one. */
export function checkEventsOptions(opts: EcsEventsOptions): void {
  const { sqs } = opts;
  if (!sqs || typeof sqs.endpoint !== 'string' || !sqs.endpoint || typeof sqs.queueUrl !== 'string' || !sqs.queueUrl || typeof sqs.region !== 'string' || !sqs.region) {
    throw new Error('publishEvents: sqs needs endpoint, region and queueUrl (the URL CreateQueue answered)');
  }
  for (const key of ['dropFraction', 'duplicateFraction'] as const) {
    const v = opts[key];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new Error(`publishEvents: ${key} must be a fraction between 0 and 1, got ${v}`);
  }
  const delay = opts.delayMs;
  if (delay !== undefined && !(Array.isArray(delay) && delay.length === 2 && delay[0] >= 0 && delay[1] >= delay[0])) {
    throw new Error(`publishEvents: delayMs must be [min, max] with 0 <= min <= max, got ${JSON.stringify(delay)}`);
  }
}

/**
 * Sends events to SQS without ever holding up the caller: `publish` only queues. Events of
 * one service go out in order (unless delayed); a failed send is counted, not retried.
 */
export class EcsEventPublisher {
  private readonly client: SQSClient;
  private readonly random: () => number;
  private readonly counts: EcsEventStats = { published: 0, dropped: 0, duplicated: 0, delayed: 0, failed: 0 };
  /** Per service ARN: bodies waiting to be sent, in order. */
  private readonly queues = new Map<string, string[]>();
  /** Service ARNs with a queue and no send in flight, in the order they became ready. */
  private readonly ready: string[] = [];
  private readonly busy = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private stopped = false;

  constructor(private readonly opts: EcsEventsOptions) {
    checkEventsOptions(opts);
    this.random = seededRandom(opts.seed ?? 1);
    this.client = new SQSClient({
      endpoint: opts.sqs.endpoint,
      region: opts.sqs.region,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
      maxAttempts: 1,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
    });
  }

  stats(): EcsEventStats {
    return { ...this.counts };
  }

  /** Queues one event (the fault choices are drawn now, in event order). */
  publish(input: EcsEventInput): void {
    if (this.stopped) return;
    const { dropFraction = 0, duplicateFraction = 0, delayMs = [0, 0] } = this.opts;
    if (dropFraction > 0 && this.random() < dropFraction) {
      this.counts.dropped++;
      return;
    }
    const copies = duplicateFraction > 0 && this.random() < duplicateFraction ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    const delay = delayMs[1] > 0 ? delayMs[0] + this.random() * (delayMs[1] - delayMs[0]) : 0;
    const body = JSON.stringify(envelope(input));
    if (delay <= 0) {
      for (let i = 0; i < copies; i++) this.enqueue(input.serviceArn, body);
      return;
    }
    this.counts.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // A late event overtakes nothing already queued: it joins its own queue, keyed apart.
      for (let i = 0; i < copies; i++) this.enqueue(`late:${randomUUID()}`, body);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  /** Stops sending: queued and delayed events are discarded. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queues.clear();
    this.ready.length = 0;
    if (this.inFlight === 0) this.client.destroy();
  }

  private enqueue(key: string, body: string): void {
    if (this.stopped) return;
    let q = this.queues.get(key);
    if (!q) {
      q = [];
      this.queues.set(key, q);
      if (!this.busy.has(key)) this.ready.push(key);
    }
    q.push(body);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < MAX_IN_FLIGHT && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const q = this.queues.get(key);
      const body = q?.shift();
      if (!q || body === undefined) continue;
      if (q.length === 0) this.queues.delete(key);
      this.busy.add(key);
      this.inFlight++;
      this.client
        .send(new SendMessageCommand({ QueueUrl: this.opts.sqs.queueUrl, MessageBody: body }))
        .then(
          () => void this.counts.published++,
          () => void this.counts.failed++,
        )
        .finally(() => {
          this.inFlight--;
          this.busy.delete(key);
          if (this.stopped) {
            if (this.inFlight === 0) this.client.destroy();
            return;
          }
          if (this.queues.has(key)) this.ready.push(key);
          this.pump();
        });
    }
  }
}
