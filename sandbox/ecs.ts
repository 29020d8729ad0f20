/**
 * ECS sandbox: a local HTTP server speaking the ECS API (AWS JSON 1.1) well enough for the
 * real `@aws-sdk/client-ecs`, with service deployments that roll out over time, failing
 * images, circuit-breaker rollbacks, fault injection and a call log.
 *
 *   const ecs = await startEcsSandbox();
 *   const client = new ECSClient({ endpoint: ecs.url, region: 'us-east-1',
 *     credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeploymentConfiguration, LoadBalancer, NetworkConfiguration, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { EcsError, TARGET_PREFIX, type Wire, clone, isObject, uuid } from './ecs/common';
import { type Fault, type FaultConfig, FaultInjector } from './ecs/faults';
import { isMutating, operations } from './ecs/operations';
import { applyDeploymentConfiguration, defaultSettings } from './ecs/config';
import { EcsEventPublisher, type DeploymentStateChangeDetail, type EcsEvent, type EcsEventStats, type EcsEventsOptions, type ServiceActionDetail } from './ecs/events';
import { type CircuitBreaker, DEFAULT_TIMING, EcsSimulator, type ServiceState, type Timing } from './ecs/simulator';
import { type TaskDefinitionInput, type TaskDefinitionRecord, TaskDefinitionRegistry } from './ecs/task-definitions';
import { Throttle, type ThrottlingConfig, type ThrottlingStats, callerOf } from './ecs/throttle';
import { renderService } from './ecs/views';
import { readBody } from './http';
import type { ThrottlingCategory } from '../domain/ecs-throttling';

export type {
  CircuitBreaker,
  DeploymentStateChangeDetail,
  EcsEvent,
  EcsEventStats,
  EcsEventsOptions,
  FaultConfig,
  ServiceActionDetail,
  TaskDefinitionInput,
  ThrottlingConfig,
  ThrottlingStats,
  Timing,
};
export { DEFAULT_TIMING };

/** One received API call. */
export interface EcsCall {
  op: string;
  input: Record<string, unknown>;
  /** Epoch milliseconds when it arrived. */
  at: number;
  mutating: boolean;
  /** Set when the call was answered with an injected fault (its effect was not applied). */
  fault?: Fault;
  /** Error type when the call was rejected (its effect was not applied). */
  error?: string;
  /** Access key ID the request was signed with. */
  caller: string;
  /** ECS throttling category of the operation. */
  category: ThrottlingCategory;
}

export interface EcsSandboxOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  timing?: Partial<Timing>;
  /** Failed tasks that trip a service's circuit breaker. Default 2. */
  circuitBreakerThreshold?: number;
  /** Simulation tick, in ms. Default 25. */
  tickMs?: number;
  /** ECS's request throttling per category; off unless given (see setThrottling). */
  throttling?: ThrottlingConfig;
}

export interface SeedServiceSpec {
  cluster: string;
  service: string;
  desiredCount: number;
  /** A RegisterTaskDefinitionRequest, or a described taskDefinition (read-only fields are ignored). */
  taskDefinition: TaskDefinitionInput;
  circuitBreaker?: CircuitBreaker;
  maximumPercent?: number;
  minimumHealthyPercent?: number;
  /**
   * The rest of a deploymentConfiguration as CreateService takes it (strategy,
   * bakeTimeInMinutes, lifecycleHooks, linear/canary configuration, alarms).
   */
  deploymentConfiguration?: DeploymentConfiguration;
  loadBalancers?: LoadBalancer[];
  networkConfiguration?: NetworkConfiguration;
  tags?: Tag[];
}

export interface SeededService {
  clusterArn: string;
  serviceArn: string;
  taskDefinitionArn: string;
}

export interface TaskDefinitionSummary {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  /** Container name → image. */
  images: Record<string, string>;
  tags: Tag[];
  registeredAt: Date;
  /** As DescribeTaskDefinition answers it (timestamps in epoch seconds). */
  taskDefinition: Wire<TaskDefinition>;
}

export interface EcsServiceSnapshot {
  cluster: string;
  service: string;
  serviceArn: string;
  /** Task definition ARN of the PRIMARY deployment. */
  taskDefinition: string | undefined;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  /** True once the service reached a steady state and nothing is rolling out. */
  steady: boolean;
  circuitBreaker: CircuitBreaker;
  /** DescribeServices deployments, PRIMARY first. */
  deployments: {
    id: string;
    status: 'PRIMARY' | 'ACTIVE';
    taskDefinition: string;
    desiredCount: number;
    runningCount: number;
    pendingCount: number;
    failedTasks: number;
    rolloutState: string;
    rolloutStateReason: string;
  }[];
  /** Service deployments, newest first. */
  serviceDeployments: {
    arn: string;
    status: string;
    statusReason?: string;
    taskDefinition: string;
    rollbackTaskDefinition?: string;
    /** Task definitions of the revisions it replaces (what served before it). */
    sourceTaskDefinitions: string[];
    /** BLUE_GREEN, LINEAR, CANARY: the lifecycle stage and the traffic weights (percent) of the new revision. */
    lifecycleStage?: string;
    productionTraffic: number;
    testTraffic: number;
    /** The most production traffic the new revision was ever given (a rollback sets the weight back to 0). */
    productionTrafficPeak: number;
    createdAt: Date;
    finishedAt?: Date;
  }[];
  currentServiceDeployment?: string;
  /** Event messages, newest first. */
  events: string[];
}

export interface EcsSandbox {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
  /** Every received call, in order. */
  readonly calls: EcsCall[];
  /** Applied mutating calls (not faulted, not rejected), optionally of one operation. */
  mutations(op?: string): EcsCall[];
  resetCalls(): void;
  /**
   * Tasks with any container image matching `match` fail when they would become healthy,
   * or, with `afterHealthyMs`, that long after they became healthy.
   */
  failImage(match: string | RegExp, opts?: { reason?: string; exitCode?: number; afterHealthyMs?: number }): void;
  /** AWS_LAMBDA lifecycle hooks whose target ARN matches answer FAILED. */
  failHook(match: string | RegExp): void;
  /** Puts a CloudWatch alarm in ALARM (true) or OK (false). */
  setAlarm(name: string, inAlarm: boolean): void;
  clearFailures(): void;
  setFaults(faults: FaultConfig): void;
  /**
   * Applies calls to `op` but holds their answers for `ms` (a lost or late answer, e.g. a
   * worker dying mid-call). `ms` = 0 ends the hold and releases answers being held.
   */
  holdResponse(op: string, ms: number): void;
  /** Simulation speed: 1 = real time per `timing`, 0.1 = ten times slower, 5 = five times faster. */
  setSpeed(factor: number): void;
  /**
   * Throttles calls per ECS throttling category with ECS's token buckets (documented numbers
   * unless overridden; refill scaled with the simulation speed unless `timeScale` is set),
   * answering HTTP 400 `ThrottlingException` as ECS does. `false` turns it off.
   */
  setThrottling(config: ThrottlingConfig | false): void;
  /** Calls allowed and throttled, per category and per caller. */
  throttlingStats(): ThrottlingStats;
  /**
   * Sends the events ECS sends to EventBridge ("ECS Deployment State Change", "ECS Service
   * Action"), each in EventBridge's envelope as the body of an SQS message, to `opts.sqs`
   * with the real SQS client; optionally drops, duplicates or delays some. Never holds up an
   * API call: sending is queued, and a failed send is counted. `false` stops sending (and
   * discards what is still queued). Each call starts the counts of eventStats afresh.
   */
  publishEvents(opts: EcsEventsOptions | false): void;
  /** What happened to the events since publishEvents turned them on (see EcsEventStats). */
  eventStats(): EcsEventStats;
  /** Creates cluster + service already running `desiredCount` healthy tasks (not recorded as calls). */
  seedService(spec: SeedServiceSpec): SeededService;
  /** Registers a task definition (e.g. a `<family>-template`) without recording a call. */
  registerTemplate(taskDefinition: TaskDefinitionInput): TaskDefinitionSummary;
  /** Current state of a service; throws when there is no such service. */
  service(cluster: string, name: string): EcsServiceSnapshot;
  /** Removes a service at once, as someone deleting it by hand would (not recorded as a call). */
  removeService(cluster: string, name: string): void;
  taskDefinitions(family?: string): TaskDefinitionSummary[];
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Starts the sandbox on 127.0.0.1 (a free port unless `port` is given). */
export async function startEcsSandbox(opts: EcsSandboxOptions = {}): Promise<EcsSandbox> {
  const timing: Timing = { ...DEFAULT_TIMING, ...opts.timing };
  const registry = new TaskDefinitionRegistry();
  const sim = new EcsSimulator(timing, opts.circuitBreakerThreshold ?? 2);
  const ops = operations(registry, sim);
  const faults = new FaultInjector();
  const throttle = new Throttle();
  if (opts.throttling) throttle.set(opts.throttling);
  let publisher: EcsEventPublisher | undefined;
  /** The publisher eventStats reports on: the current one, or the last one stopped. */
  let counted: EcsEventPublisher | undefined;
  sim.onEvent = (event) => publisher?.publish(event);
  const calls: EcsCall[] = [];
  const holds = new Map<string, number>();
  const held = new Set<{ op: string; release: () => void }>();

  /** Waits out a hold on `op`, if any (until it elapses or is lifted). */
  async function holdFor(op: string): Promise<void> {
    const ms = holds.get(op);
    if (!ms) return;
    await new Promise<void>((resolve) => {
      const entry = {
        op,
        release: () => {
          clearTimeout(timeout);
          held.delete(entry);
          resolve();
        },
      };
      const timeout = setTimeout(entry.release, ms);
      timeout.unref();
      held.add(entry);
    });
  }
  function release(op?: string): void {
    for (const h of [...held]) if (op === undefined || h.op === op) h.release();
  }

  const timer = setInterval(() => sim.tick(), opts.tickMs ?? 25);
  timer.unref();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, 500, { __type: 'ServerException', message: err instanceof Error ? err.message : String(err) });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.method === 'GET') {
      const services = [...sim.clusters.values()].flatMap((c) => [...c.services.values()].map(snapshot));
      return send(res, 200, { name: 'ecs-sandbox', services });
    }
    if (req.method !== 'POST') return send(res, 405, { __type: 'UnknownOperationException', message: 'Use POST.' });

    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith(`${TARGET_PREFIX}.`) ? target.slice(TARGET_PREFIX.length + 1) : '';
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.length ? JSON.parse(body) : {};
      if (!isObject(parsed)) throw new Error('not an object');
      input = parsed;
    } catch {
      return send(res, 400, { __type: 'SerializationException', message: 'Request body is not a JSON object.' });
    }
    const caller = callerOf(req.headers.authorization);
    const admitted = throttle.admit(op || target, caller);
    const call: EcsCall = { op: op || target, input, at: Date.now(), mutating: isMutating(op), caller, category: admitted.category };
    calls.push(call);
    if (!admitted.allowed) {
      call.error = 'ThrottlingException';
      return send(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
    }

    const fault = faults.draw();
    let status = 200;
    let answer: unknown;
    if (fault) {
      call.fault = fault;
      [status, answer] =
        fault === 'throttle'
          ? [400, { __type: 'ThrottlingException', message: 'Rate exceeded' }]
          : [500, { __type: 'ServerException', message: 'Service encountered an internal error.' }];
    } else {
      const operation = Object.hasOwn(ops, op) ? ops[op] : undefined;
      try {
        if (!operation) throw new EcsError('UnknownOperationException', `Unknown operation ${target || '(none)'}`);
        sim.tick();
        answer = operation(input);
      } catch (err) {
        const e = err instanceof EcsError ? err : new EcsError('ServerException', errorMessage(err), 500);
        call.error = e.type;
        [status, answer] = [e.status, { __type: e.type, message: e.message }];
      }
    }
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs).unref());
    if (!fault) await holdFor(op);
    send(res, status, answer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  function summary(record: TaskDefinitionRecord): TaskDefinitionSummary {
    return {
      arn: record.arn,
      family: record.family,
      revision: record.revision,
      status: record.status,
      images: Object.fromEntries((record.body.containerDefinitions ?? []).map((c) => [c.name ?? '', c.image ?? ''])),
      tags: clone(record.tags),
      registeredAt: new Date(record.registeredAt),
      taskDefinition: registry.render(record),
    };
  }

  function snapshot(svc: ServiceState): EcsServiceSnapshot {
    const rendered = renderService(svc, false);
    return {
      cluster: svc.cluster.name,
      service: svc.name,
      serviceArn: svc.arn,
      taskDefinition: svc.primary?.revision.td.arn,
      desiredCount: svc.desiredCount,
      runningCount: rendered.runningCount ?? 0,
      pendingCount: rendered.pendingCount ?? 0,
      steady: svc.steady,
      circuitBreaker: { ...svc.settings.breaker },
      deployments: (rendered.deployments ?? []).map((d) => ({
        id: d.id ?? '',
        status: d.status as 'PRIMARY' | 'ACTIVE',
        taskDefinition: d.taskDefinition ?? '',
        desiredCount: d.desiredCount ?? 0,
        runningCount: d.runningCount ?? 0,
        pendingCount: d.pendingCount ?? 0,
        failedTasks: d.failedTasks ?? 0,
        rolloutState: d.rolloutState ?? '',
        rolloutStateReason: d.rolloutStateReason ?? '',
      })),
      serviceDeployments: [...svc.deployments].reverse().map((sd) => ({
        arn: sd.arn,
        status: sd.status,
        ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
        taskDefinition: sd.target.td.arn,
        ...(sd.rollbackSet ? { rollbackTaskDefinition: sd.rollbackSet.revision.td.arn } : {}),
        sourceTaskDefinitions: sd.sources.map((r) => r.td.arn),
        ...(sd.stage ? { lifecycleStage: sd.stage } : {}),
        productionTraffic: sd.production,
        testTraffic: sd.test,
        productionTrafficPeak: sd.productionPeak,
        createdAt: new Date(sd.createdAt),
        ...(sd.finishedAt !== undefined ? { finishedAt: new Date(sd.finishedAt) } : {}),
      })),
      ...(svc.current ? { currentServiceDeployment: svc.current.arn } : {}),
      events: svc.events.map((e) => e.message),
    };
  }

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    calls,
    async close() {
      clearInterval(timer);
      publisher?.stop();
      release();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    mutations(op) {
      return calls.filter((c) => c.mutating && !c.fault && !c.error && (op === undefined || c.op === op));
    },
    resetCalls() {
      calls.length = 0;
      throttle.resetStats();
    },
    failImage(match, failOpts = {}) {
      sim.addFailure({ match, ...failOpts });
    },
    failHook(match) {
      sim.failHook(match);
    },
    setAlarm(name, inAlarm) {
      sim.setAlarm(name, inAlarm);
    },
    clearFailures() {
      sim.clearFailures();
    },
    setFaults(config) {
      faults.set(config);
    },
    holdResponse(op, ms) {
      if (ms > 0) {
        holds.set(op, ms);
      } else {
        holds.delete(op);
        release(op);
      }
    },
    setSpeed(factor) {
      sim.setSpeed(factor);
      throttle.setSpeed(factor);
    },
    setThrottling(config) {
      throttle.set(config);
    },
    throttlingStats() {
      return throttle.snapshot();
    },
    publishEvents(eventOpts) {
      const next = eventOpts ? new EcsEventPublisher(eventOpts) : undefined;
      publisher?.stop();
      publisher = next;
      counted = next ?? counted;
    },
    eventStats() {
      return counted ? counted.stats() : { published: 0, dropped: 0, duplicated: 0, delayed: 0, failed: 0 };
    },
    seedService(spec) {
      const td = registry.register(spec.taskDefinition);
      const cluster = sim.ensureCluster(spec.cluster);
      const svc = sim.createService(
        cluster,
        {
          name: spec.service,
          desiredCount: spec.desiredCount,
          td,
          settings: applyDeploymentConfiguration(defaultSettings(), {
            ...spec.deploymentConfiguration,
            ...(spec.circuitBreaker ? { deploymentCircuitBreaker: spec.circuitBreaker } : {}),
            ...(spec.maximumPercent !== undefined ? { maximumPercent: spec.maximumPercent } : {}),
            ...(spec.minimumHealthyPercent !== undefined ? { minimumHealthyPercent: spec.minimumHealthyPercent } : {}),
          }),
          ...(spec.loadBalancers ? { loadBalancers: spec.loadBalancers } : {}),
          ...(spec.networkConfiguration ? { networkConfiguration: spec.networkConfiguration } : {}),
          ...(spec.tags ? { tags: spec.tags } : {}),
        },
        true,
      );
      return { clusterArn: cluster.arn, serviceArn: svc.arn, taskDefinitionArn: td.arn };
    },
    registerTemplate(taskDefinition) {
      return summary(registry.register(taskDefinition));
    },
    service(clusterName, name) {
      const svc = sim.clusters.get(clusterName)?.services.get(name);
      if (!svc) throw new Error(`no service ${name} in cluster ${clusterName}`);
      return snapshot(svc);
    },
    removeService(clusterName, name) {
      if (!sim.clusters.get(clusterName)?.services.delete(name)) throw new Error(`no service ${name} in cluster ${clusterName}`);
    },
    taskDefinitions(family) {
      return registry.all(family).map(summary);
    },
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': uuid(),
  });
  res.end(text);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
