/**
 * The time-based ECS service model: clusters, services, task sets ("deployments" in
 * DescribeServices), service deployments, service revisions and tasks, advanced by tick().
 *
 * Rollout model (rolling update, like the ECS scheduler):
 *  - UpdateService with a new task definition creates a service revision, a PRIMARY task set
 *    and a service deployment (PENDING, then IN_PROGRESS on the next tick); the previous
 *    PRIMARY becomes ACTIVE and every unfinished service deployment becomes STOPPED.
 *  - New tasks launch up to `maximumPercent` of the desired count, go
 *    PROVISIONING → PENDING → RUNNING after `taskStartMs` and become ready after `healthyMs`.
 *  - Old tasks are stopped while at least `minimumHealthyPercent` stay ready; they drain for
 *    `drainMs` before reaching STOPPED.
 *  - Once the PRIMARY runs the desired count of ready tasks and no old task is left, the
 *    deployment is COMPLETED / SUCCESSFUL and the service reaches a steady state.
 *  - Tasks matching a failure rule stop when they would become ready; with the circuit
 *    breaker's rollback enabled, `threshold` failures roll the service back to the last
 *    revision that completed, without registering any task definition.
 */
import type {
  DeploymentConfiguration,
  DeploymentLifecycleHook,
  DeploymentLifecycleHookAction,
  DeploymentLifecycleHookStatus,
  DeploymentRolloutState,
  HealthStatus,
  LoadBalancer,
  NetworkConfiguration,
  ServiceDeploymentLifecycleStage,
  ServiceDeploymentRollbackMonitorsStatus,
  ServiceDeploymentStatus,
  Tag,
  TaskStopCode,
} from '@aws-sdk/client-ecs';
import { EcsError, type Wire, arns, clone, lastSegment, numericId, serviceDeploymentId, taskId, uuid } from './common';
import { type CircuitBreaker, type ServiceDeploymentSettings, defaultSettings, renderSettings } from './config';
import type { DeploymentEventName, EcsEventInput, ServiceActionEventName } from './events';
import type { TaskDefinitionRecord } from './task-definitions';

export type { CircuitBreaker };

/** Durations of the task lifecycle, in simulated milliseconds (see EcsSimulator.setSpeed). */
export interface Timing {
  /** Launch to RUNNING (PROVISIONING → PENDING → RUNNING). */
  taskStartMs: number;
  /** RUNNING to healthy (or, for a failing image, to STOPPED). */
  healthyMs: number;
  /** Stop requested to STOPPED (connection draining). */
  drainMs: number;
  /** One minute of a configured bake time or hook timeout (60000 = real minutes). */
  minuteMs: number;
  /** How long an AWS_LAMBDA lifecycle hook takes to answer. */
  hookMs: number;
}

export const DEFAULT_TIMING: Timing = { taskStartMs: 700, healthyMs: 600, drainMs: 400, minuteMs: 60_000, hookMs: 300 };

/** Makes tasks whose container image matches fail when they would become healthy. */
export interface FailureRule {
  match: string | RegExp;
  /** Task stoppedReason (and container reason). Default: "Task failed container health checks". */
  reason?: string;
  /** When set, the container exits with this code (stopCode EssentialContainerExited). */
  exitCode?: number;
  /** When set, tasks first become healthy and fail this long (simulated ms) after. */
  afterHealthyMs?: number;
}

type TaskStatus = 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'DEACTIVATING' | 'DEPROVISIONING' | 'STOPPED';

export interface ContainerState {
  id: string;
  name: string;
  image: string;
  essential: boolean;
  healthChecked: boolean;
  cpu: number;
  memory?: number;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  health: HealthStatus;
  exitCode?: number;
  reason?: string;
}

export interface TaskState {
  seq: number;
  id: string;
  arn: string;
  service: ServiceState;
  set: TaskSetState;
  td: TaskDefinitionRecord;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** Passed its health checks and serves traffic. */
  ready: boolean;
  simReady?: number;
  simCreated: number;
  simRunning?: number;
  simStopping?: number;
  createdAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  stopCode?: TaskStopCode;
  containers: ContainerState[];
  version: number;
  privateIp: string;
}

export interface ServiceRevisionState {
  id: string;
  arn: string;
  service: ServiceState;
  td: TaskDefinitionRecord;
  createdAt: number;
  loadBalancers: LoadBalancer[];
  networkConfiguration: NetworkConfiguration;
}

/** A task set: one entry of DescribeServices `deployments`. */
export interface TaskSetState {
  id: string;
  revision: ServiceRevisionState;
  status: 'PRIMARY' | 'ACTIVE';
  failedTasks: number;
  rolloutState: DeploymentRolloutState;
  rolloutStateReason: string;
  createdAt: number;
  updatedAt: number;
  tasks: TaskState[];
  /** An EventBridge COMPLETED or FAILED event was sent since its last IN_PROGRESS one. */
  announcedEnd?: boolean;
  /** SERVICE_TASK_START_IMPAIRED was sent for it. */
  announcedImpaired?: boolean;
}

export interface ServiceDeploymentState {
  seq: number;
  id: string;
  arn: string;
  service: ServiceState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  stoppedAt?: number;
  updatedAt: number;
  status: ServiceDeploymentStatus;
  statusReason?: string;
  target: ServiceRevisionState;
  targetSet: TaskSetState;
  sources: ServiceRevisionState[];
  rollback?: { reason: string; startedAt: number; serviceRevisionArn: string };
  /** Task set being rolled back to, and its failure count when the rollback began. */
  rollbackSet?: TaskSetState;
  rollbackBaseline?: number;
  /** Simulated time the rollback began; a rollback needs `healthyMs` of stability to succeed. */
  rollbackSim?: number;
  /** Reason recorded by StopServiceDeployment, applied on the next tick. */
  requestedReason?: string;
  breakerStatus: ServiceDeploymentRollbackMonitorsStatus;
  configuration: Wire<DeploymentConfiguration>;
  /** The settings this deployment runs under (a copy taken when it started). */
  settings: ServiceDeploymentSettings;
  /** BLUE_GREEN, LINEAR and CANARY: the stage ECS reports, and since when (simulated ms). */
  stage?: ServiceDeploymentLifecycleStage;
  stageSim: number;
  /** Lifecycle hook invocations, oldest first. */
  hooks: HookRun[];
  /** Stages whose hooks were invoked. */
  hookedStages: string[];
  /** Traffic weights (percent) requested for the target revision. */
  production: number;
  test: number;
  /** The most production traffic the target revision was ever given (a rollback sets `production` back to 0). */
  productionPeak: number;
  /** Simulated time of the last production traffic step. */
  stepSim?: number;
  alarmStatus: ServiceDeploymentRollbackMonitorsStatus;
  triggeredAlarms: string[];
}

/** One invocation of a lifecycle hook. */
export interface HookRun {
  hookId: string;
  hook: Wire<DeploymentLifecycleHook>;
  stage: string;
  status: DeploymentLifecycleHookStatus;
  startedSim: number;
  expiresSim?: number;
  expiresAt?: number;
  timeoutAction: DeploymentLifecycleHookAction;
}

export interface ServiceState {
  name: string;
  arn: string;
  cluster: ClusterState;
  createdAt: number;
  desiredCount: number;
  settings: ServiceDeploymentSettings;
  loadBalancers: LoadBalancer[];
  networkConfiguration: NetworkConfiguration;
  tags: Tag[];
  /** Task sets, PRIMARY first. */
  sets: TaskSetState[];
  primary?: TaskSetState;
  /** Service deployments, oldest first. */
  deployments: ServiceDeploymentState[];
  current?: ServiceDeploymentState;
  /** The last revision that completed a deployment: the rollback target. */
  stable?: ServiceRevisionState;
  /** Newest first. */
  events: { id: string; createdAt: number; message: string }[];
  steady: boolean;
  /** When prune() last ran for this service (wall clock). */
  prunedAt?: number;
}

export interface ClusterState {
  name: string;
  arn: string;
  createdAt: number;
  tags: Tag[];
  services: Map<string, ServiceState>;
  tasks: Map<string, TaskState>;
}

/** Parameters of a new service. */
export interface ServiceSpec {
  name: string;
  desiredCount: number;
  td: TaskDefinitionRecord;
  settings?: ServiceDeploymentSettings;
  loadBalancers?: LoadBalancer[];
  networkConfiguration?: NetworkConfiguration;
  tags?: Tag[];
}

/** Service deployment statuses that are not final. */
export const UNFINISHED: ServiceDeploymentStatus[] = ['PENDING', 'IN_PROGRESS', 'ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'STOP_REQUESTED'];
const MAX_EVENTS = 100;
const MAX_STOPPED_TASKS = 100;
const CIRCUIT_BREAKER_REASON = 'ECS deployment circuit breaker: tasks failed to start.';
const BREAKER_ROLLBACK_REASON = 'Service deployment rolled back because the circuit breaker threshold was exceeded.';
const HEALTH_CHECK_FAILURE = 'Task failed container health checks';
const ALARM_ROLLBACK_REASON = 'Service deployment rolled back because one or more CloudWatch alarms were triggered.';
/** How the reason of a rollback's IN_PROGRESS event starts (ECS documents the circuit breaker's). */
const ROLLBACK_CAUSE = {
  breaker: 'ECS deployment circuit breaker',
  alarm: 'ECS deployment alarms',
  request: 'ECS deployment rollback requested',
  hook: 'ECS deployment lifecycle hook',
};
/** The stages of a BLUE_GREEN, LINEAR or CANARY service deployment, in order. */
export const STAGES: readonly ServiceDeploymentLifecycleStage[] = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
];

/** A clock that runs `speed` times as fast as the wall clock. */
class SimClock {
  private sim = 0;
  private wall = Date.now();
  private factor = 1;

  now(): number {
    const wall = Date.now();
    this.sim += (wall - this.wall) * this.factor;
    this.wall = wall;
    return this.sim;
  }

  set speed(f: number) {
    this.now();
    this.factor = f;
  }
}

export class EcsSimulator {
  readonly clusters = new Map<string, ClusterState>();
  private readonly serviceDeployments = new Map<string, ServiceDeploymentState>();
  private readonly revisions = new Map<string, ServiceRevisionState>();
  private failureRules: FailureRule[] = [];
  /**
   * Services a tick may change. A service at rest (atRest) leaves the set after its tick and
   * comes back when something acts on it (an update, a stop, a hook's answer, a fault), so a
   * tick costs what the deployments under way cost, not the whole account's services.
   */
  private readonly busy = new Set<ServiceState>();
  private failingHooks: (string | RegExp)[] = [];
  /** CloudWatch alarms currently in ALARM. */
  readonly alarmsOn = new Set<string>();
  private readonly clock = new SimClock();
  private seq = 0;
  /** Receives the events ECS would send to EventBridge (see ./events.ts). */
  onEvent: ((event: EcsEventInput) => void) | undefined;

  constructor(
    public timing: Timing,
    public threshold: number,
  ) {}

  // ---- configuration ---------------------------------------------------------------------

  setSpeed(factor: number): void {
    if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`speed must be a positive number, got ${factor}`);
    this.clock.speed = factor;
  }

  addFailure(rule: FailureRule): void {
    this.failureRules.push(rule);
    this.wakeAll();
  }

  clearFailures(): void {
    this.failureRules = [];
    this.failingHooks = [];
  }

  /** AWS_LAMBDA hooks whose target ARN matches answer FAILED. */
  failHook(match: string | RegExp): void {
    this.failingHooks.push(match);
    this.wakeAll();
  }

  /** Sets a CloudWatch alarm's state; deployments that monitor it react on the next tick. */
  setAlarm(name: string, inAlarm: boolean): void {
    if (inAlarm) this.alarmsOn.add(name);
    else this.alarmsOn.delete(name);
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const cluster of this.clusters.values()) for (const svc of cluster.services.values()) this.busy.add(svc);
  }

  // ---- lookup ------------------------------------------------------------------------------

  ensureCluster(name: string): ClusterState {
    let cluster = this.clusters.get(name);
    if (!cluster) {
      cluster = { name, arn: arns.cluster(name), createdAt: Date.now(), tags: [], services: new Map(), tasks: new Map() };
      this.clusters.set(name, cluster);
    }
    return cluster;
  }

  /** A cluster by name or ARN (`default` when omitted); throws ClusterNotFoundException. */
  cluster(ref: unknown): ClusterState {
    const name = ref === undefined || ref === null || ref === '' ? 'default' : lastSegment(String(ref));
    const cluster = this.clusters.get(name);
    if (!cluster) throw new EcsError('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  /** A service by name or ARN; the cluster defaults to the one in the service ARN. */
  service(clusterRef: unknown, serviceRef: unknown): ServiceState {
    if (typeof serviceRef !== 'string' || serviceRef.length === 0) {
      throw new EcsError('InvalidParameterException', 'service can not be blank.');
    }
    const cluster = this.cluster(clusterRef ?? clusterOfServiceArn(serviceRef));
    const svc = cluster.services.get(lastSegment(serviceRef));
    if (!svc) throw new EcsError('ServiceNotFoundException', 'Service not found.');
    return svc;
  }

  serviceDeployment(arn: string): ServiceDeploymentState | undefined {
    return this.serviceDeployments.get(arn);
  }

  serviceRevision(arn: string): ServiceRevisionState | undefined {
    return this.revisions.get(arn);
  }

  /** A service by its ARN, in any cluster. */
  findServiceByArn(arn: string): ServiceState | undefined {
    for (const cluster of this.clusters.values()) for (const svc of cluster.services.values()) if (svc.arn === arn) return svc;
    return undefined;
  }

  // ---- service lifecycle -------------------------------------------------------------------

  /**
   * Creates a service. `seeded` services start in a steady state, already running the
   * desired number of healthy tasks; otherwise a first deployment launches them.
   */
  createService(cluster: ClusterState, spec: ServiceSpec, seeded: boolean): ServiceState {
    if (cluster.services.has(spec.name)) {
      throw new EcsError('InvalidParameterException', 'Creation of service was not idempotent.');
    }
    const now = Date.now();
    const svc: ServiceState = {
      name: spec.name,
      arn: arns.service(cluster.name, spec.name),
      cluster,
      createdAt: now,
      desiredCount: spec.desiredCount,
      settings: clone(spec.settings ?? defaultSettings()),
      loadBalancers: clone(spec.loadBalancers ?? []),
      networkConfiguration: clone(spec.networkConfiguration ?? defaultNetwork()),
      tags: clone(spec.tags ?? []),
      sets: [],
      deployments: [],
      events: [],
      steady: false,
    };
    cluster.services.set(spec.name, svc);
    if (!seeded) {
      this.startDeployment(svc, spec.td);
      return svc;
    }

    const revision = this.newRevision(svc, spec.td, now);
    const set = newTaskSet(revision, 'PRIMARY', now);
    set.rolloutState = 'COMPLETED';
    set.rolloutStateReason = `ECS deployment ${set.id} completed.`;
    svc.sets.push(set);
    svc.primary = set;
    const sd = this.newServiceDeployment(svc, revision, set, [], now);
    sd.status = 'SUCCESSFUL';
    sd.startedAt = now;
    sd.finishedAt = now;
    sd.breakerStatus = svc.settings.breaker.enable ? 'MONITORING_COMPLETE' : 'DISABLED';
    sd.stage = undefined;
    const sim = this.clock.now();
    for (let i = 0; i < spec.desiredCount; i++) {
      const task = this.launchTask(svc, set, sim, now);
      task.lastStatus = 'RUNNING';
      task.ready = true;
      task.simRunning = sim;
      task.pullStartedAt = task.pullStoppedAt = task.startedAt = now;
      for (const c of task.containers) {
        c.lastStatus = 'RUNNING';
        c.health = c.healthChecked ? 'HEALTHY' : 'UNKNOWN';
      }
    }
    svc.stable = revision;
    svc.steady = true;
    this.busy.add(svc);
    this.event(svc, `(service ${svc.name}) has reached a steady state.`, now);
    return svc;
  }

  /** Applies an UpdateService request; returns the service deployment it started, if any. */
  updateService(
    svc: ServiceState,
    change: {
      desiredCount?: number;
      td?: TaskDefinitionRecord;
      forceNewDeployment?: boolean;
      settings?: ServiceDeploymentSettings;
    },
  ): ServiceDeploymentState | undefined {
    this.busy.add(svc);
    if (change.settings) svc.settings = clone(change.settings);
    if (change.desiredCount !== undefined && change.desiredCount !== svc.desiredCount) {
      svc.desiredCount = change.desiredCount;
      if (svc.primary) svc.primary.updatedAt = Date.now();
    }
    const currentTd = svc.primary?.revision.td;
    const td = change.td ?? currentTd;
    if (!td) return undefined;
    if (change.forceNewDeployment || td !== currentTd) return this.startDeployment(svc, td);
    return undefined;
  }

  /** Starts a new service deployment of `td`, superseding any unfinished one. */
  startDeployment(svc: ServiceState, td: TaskDefinitionRecord): ServiceDeploymentState {
    this.busy.add(svc);
    const now = Date.now();
    for (const sd of svc.deployments) {
      if (!UNFINISHED.includes(sd.status)) continue;
      sd.status = 'STOPPED';
      sd.statusReason = 'Service deployment stopped because it was superseded by a newer service deployment.';
      sd.stoppedAt = now;
      sd.updatedAt = now;
      if (sd.breakerStatus === 'MONITORING') sd.breakerStatus = 'MONITORING_COMPLETE';
    }
    // Failed task sets stay listed after a rollback until the next deployment.
    svc.sets = svc.sets.filter((s) => s === svc.primary || s.rolloutState !== 'FAILED' || hasTasks(s));

    const revision = this.newRevision(svc, td, now);
    const set = newTaskSet(revision, 'PRIMARY', now);
    const sources = unique(svc.sets.filter(hasTasks).map((s) => s.revision));
    if (svc.primary) {
      svc.primary.status = 'ACTIVE';
      svc.primary.updatedAt = now;
    }
    svc.sets.unshift(set);
    svc.primary = set;
    svc.steady = false;
    return this.newServiceDeployment(svc, revision, set, sources, now);
  }

  /** StopServiceDeployment: ROLLBACK rolls back to the last completed revision, ABORT just stops. */
  stopServiceDeployment(sd: ServiceDeploymentState, stopType: 'ROLLBACK' | 'ABORT'): void {
    if (sd.status !== 'PENDING' && sd.status !== 'IN_PROGRESS') {
      throw new EcsError('InvalidParameterException', `The service deployment is ${sd.status} and can not be stopped.`);
    }
    sd.status = stopType === 'ROLLBACK' ? 'ROLLBACK_REQUESTED' : 'STOP_REQUESTED';
    this.busy.add(sd.service);
    sd.requestedReason =
      stopType === 'ROLLBACK'
        ? 'Service deployment rolled back because of a StopServiceDeployment request.'
        : 'Service deployment stopped because of a StopServiceDeployment request.';
    sd.updatedAt = Date.now();
  }

  /** ContinueServiceDeployment: answers a PAUSE hook that awaits action. */
  continueServiceDeployment(sd: ServiceDeploymentState, hookId: string, action: DeploymentLifecycleHookAction): void {
    this.busy.add(sd.service);
    const run = sd.hooks.find((h) => h.hookId === hookId);
    if (!run) throw new EcsError('InvalidParameterException', `The service deployment has no lifecycle hook ${hookId}.`);
    if (sd.status !== 'IN_PROGRESS' || run.status !== 'AWAITING_ACTION') {
      throw new EcsError('InvalidParameterException', `The lifecycle hook ${hookId} is ${run.status}, not AWAITING_ACTION.`);
    }
    const now = Date.now();
    sd.updatedAt = now;
    if (action === 'CONTINUE') {
      run.status = 'SUCCEEDED';
      return;
    }
    run.status = 'FAILED';
    this.beginRollback(sd, `Service deployment rolled back because lifecycle hook ${hookId} at ${run.stage} was answered with ROLLBACK.`, now, 'hook');
  }

  // ---- simulation --------------------------------------------------------------------------

  /** Advances every service to the current simulated time. */
  tick(): void {
    const sim = this.clock.now();
    const now = Date.now();
    for (const svc of this.busy) {
      // A service removed since it was woken has nothing to advance.
      const present = svc.cluster.services.get(svc.name) === svc;
      if (present) this.tickService(svc, sim, now);
      if (!present || this.atRest(svc)) this.busy.delete(svc);
    }
  }

  private tickService(svc: ServiceState, sim: number, now: number): void {
    for (const sd of svc.deployments) {
      if (sd.status === 'PENDING') {
        sd.status = 'IN_PROGRESS';
        sd.startedAt = now;
        sd.updatedAt = now;
        this.deploymentEvent(sd.targetSet, 'SERVICE_DEPLOYMENT_IN_PROGRESS', `ECS deployment ${sd.targetSet.id} in progress.`, now);
      } else if (sd.status === 'STOP_REQUESTED') {
        sd.status = 'STOPPED';
        sd.statusReason = sd.requestedReason;
        sd.stoppedAt = now;
        sd.updatedAt = now;
        this.deploymentEvent(sd.targetSet, 'SERVICE_DEPLOYMENT_FAILED', sd.statusReason ?? 'Service deployment stopped.', now);
      } else if (sd.status === 'ROLLBACK_REQUESTED') {
        this.beginRollback(sd, sd.requestedReason ?? 'Service deployment rolled back.', now, 'request');
      }
    }

    const ready: TaskState[] = [];
    const failed: TaskState[] = [];
    for (const set of svc.sets) for (const task of set.tasks) this.advanceTask(task, sim, now, ready, failed);
    if (ready.length) this.targetsEvent(svc, 'registered', ready.length, now);
    for (const task of failed) this.onTaskFailed(task, now);

    const sd = svc.current;
    if (sd?.status === 'IN_PROGRESS') this.watchAlarms(sd, now);
    if (sd?.status === 'IN_PROGRESS' && sd.stage) {
      this.scheduleSideBySide(svc, sd, sim, now);
      this.advanceStages(sd, sim, now);
    } else {
      this.schedule(svc, sim, now);
    }
    this.checkCompletion(svc, sim, now);
    this.prune(svc);
  }

  /**
   * A service a tick would not change: steady, no deployment under way, one task set (the
   * PRIMARY, its rollout completed) running its desired count, every task healthy or
   * stopped, and no failure rule that could stop a healthy task later. Anything that changes
   * the service (an API call, a test's fault) breaks one of these, and ticks resume.
   */
  private atRest(svc: ServiceState): boolean {
    const primary = svc.primary;
    if (!svc.steady || !primary || this.failureRules.length > 0) return false;
    if (svc.sets.length !== 1 || svc.sets[0] !== primary || primary.rolloutState !== 'COMPLETED') return false;
    for (const sd of svc.deployments) if (UNFINISHED.includes(sd.status)) return false;
    let running = 0;
    for (const t of primary.tasks) {
      if (t.lastStatus === 'STOPPED') continue;
      if (t.lastStatus !== 'RUNNING' || !t.ready || t.desiredStatus !== 'RUNNING') return false;
      running++;
    }
    return running === svc.desiredCount;
  }

  /** Rolls back a deployment whose monitored CloudWatch alarms went into ALARM. */
  private watchAlarms(sd: ServiceDeploymentState, now: number): void {
    const alarms = sd.settings.alarms;
    if (!alarms.enable || sd.alarmStatus === 'TRIGGERED') return;
    const triggered = alarms.alarmNames.filter((n) => this.alarmsOn.has(n));
    if (!triggered.length) return;
    sd.alarmStatus = 'TRIGGERED';
    sd.triggeredAlarms = triggered;
    sd.updatedAt = now;
    this.event(sd.service, `(service ${sd.service.name}) (deployment ${sd.targetSet.id}) alarms in ALARM state: ${triggered.join(', ')}.`, now);
    if (alarms.rollback) this.beginRollback(sd, ALARM_ROLLBACK_REASON, now, 'alarm');
  }

  /**
   * BLUE_GREEN, LINEAR and CANARY: from SCALE_UP on, the new revision runs its full count
   * beside the old one, which keeps serving until CLEAN_UP.
   */
  private scheduleSideBySide(svc: ServiceState, sd: ServiceDeploymentState, sim: number, now: number): void {
    const stage = STAGES.indexOf(sd.stage!);
    const target = sd.targetSet;
    const started: TaskState[] = [];
    const stopped: TaskState[] = [];
    if (stage >= STAGES.indexOf('SCALE_UP')) {
      for (let n = live(target).length; n < svc.desiredCount; n++) started.push(this.launchTask(svc, target, sim, now));
    }
    if (sd.stage === 'CLEAN_UP') {
      for (const set of svc.sets) {
        if (set === target) continue;
        for (const task of live(set)) {
          this.stopTask(task, scalingReason(target), sim, now);
          stopped.push(task);
        }
      }
    }
    if (started.length) this.event(svc, `(service ${svc.name}) has started ${started.length} tasks: ${taskList(started)}.`, now);
    if (stopped.length) this.event(svc, `(service ${svc.name}) has stopped ${stopped.length} running tasks: ${taskList(stopped)}.`, now);
  }

  /** Moves a BLUE_GREEN, LINEAR or CANARY deployment through its lifecycle stages. */
  private advanceStages(sd: ServiceDeploymentState, sim: number, now: number): void {
    for (let guard = 0; guard < STAGES.length && sd.status === 'IN_PROGRESS' && sd.stage; guard++) {
      const stage: ServiceDeploymentLifecycleStage = sd.stage;
      if (!this.hooksDone(sd, stage, sim, now) || sd.status !== 'IN_PROGRESS') return;
      if (!this.stageDone(sd, stage, sim, now)) return;
      if (stage === 'CLEAN_UP') return; // checkCompletion ends it once the old tasks are gone
      sd.stage = STAGES[STAGES.indexOf(stage) + 1];
      sd.stageSim = sim;
      sd.updatedAt = now;
    }
  }

  /** Invokes the hooks of a stage once; true when every one of them let the deployment go on. */
  private hooksDone(sd: ServiceDeploymentState, stage: ServiceDeploymentLifecycleStage, sim: number, now: number): boolean {
    if (!sd.hookedStages.includes(stage)) {
      sd.hookedStages.push(stage);
      // PRE_PRODUCTION_TRAFFIC_SHIFT hooks run as production traffic is about to move.
      const hookStages: string[] = stage === 'PRODUCTION_TRAFFIC_SHIFT' ? ['PRE_PRODUCTION_TRAFFIC_SHIFT', stage] : [stage];
      for (const hook of sd.settings.lifecycleHooks) {
        if (!(hook.lifecycleStages ?? []).some((s) => hookStages.includes(s))) continue;
        const timeout = hook.timeoutConfiguration?.timeoutInMinutes;
        const pause = hook.targetType === 'PAUSE';
        sd.hooks.push({
          hookId: uuid(),
          hook,
          stage,
          status: pause ? 'AWAITING_ACTION' : 'IN_PROGRESS',
          startedSim: sim,
          ...(timeout !== undefined ? { expiresSim: sim + timeout * this.timing.minuteMs, expiresAt: now + timeout * this.timing.minuteMs } : {}),
          timeoutAction: hook.timeoutConfiguration?.action ?? 'ROLLBACK',
        });
        sd.updatedAt = now;
      }
    }
    let done = true;
    for (const run of sd.hooks.filter((h) => h.stage === stage)) {
      if (run.status === 'IN_PROGRESS' && sim - run.startedSim >= this.timing.hookMs) {
        const fails = this.failingHooks.some((m) => matches(m, run.hook.hookTargetArn ?? ''));
        run.status = fails ? 'FAILED' : 'SUCCEEDED';
        if (fails) {
          this.beginRollback(sd, `Service deployment rolled back because lifecycle hook ${hookName(run)} failed at ${stage}.`, now, 'hook');
          return false;
        }
      }
      if ((run.status === 'AWAITING_ACTION' || run.status === 'IN_PROGRESS') && run.expiresSim !== undefined && sim >= run.expiresSim) {
        run.status = 'TIMED_OUT';
        if (run.timeoutAction === 'ROLLBACK') {
          this.beginRollback(sd, `Service deployment rolled back because lifecycle hook ${hookName(run)} timed out at ${stage}.`, now, 'hook');
          return false;
        }
      }
      if (run.status === 'AWAITING_ACTION' || run.status === 'IN_PROGRESS') done = false;
    }
    return done;
  }

  /** The work of a stage itself; true once it is done. */
  private stageDone(sd: ServiceDeploymentState, stage: ServiceDeploymentLifecycleStage, sim: number, now: number): boolean {
    const svc = sd.service;
    const minute = this.timing.minuteMs;
    switch (stage) {
      case 'SCALE_UP': {
        const tasks = live(sd.targetSet);
        return tasks.length >= svc.desiredCount && tasks.every((t) => t.ready);
      }
      case 'TEST_TRAFFIC_SHIFT':
        if (sd.test !== 100) {
          sd.test = 100;
          this.event(svc, `(service ${svc.name}) shifted test traffic to (service-revision ${sd.target.id}).`, now);
        }
        return true;
      case 'PRODUCTION_TRAFFIC_SHIFT': {
        const s = sd.settings;
        const shift = (weight: number) => {
          sd.production = Math.min(100, Math.round(weight * 10) / 10);
          sd.productionPeak = Math.max(sd.productionPeak, sd.production);
          sd.stepSim = sim;
          sd.updatedAt = now;
          this.event(svc, `(service ${svc.name}) shifted ${sd.production}% of production traffic to (service-revision ${sd.target.id}).`, now);
        };
        if (s.strategy === 'LINEAR' && s.linear) {
          if (sd.production === 0) shift(s.linear.stepPercent);
          else if (sd.production < 100 && sim - (sd.stepSim ?? sim) >= s.linear.stepBakeTimeInMinutes * minute) shift(sd.production + s.linear.stepPercent);
        } else if (s.strategy === 'CANARY' && s.canary) {
          if (sd.production === 0) shift(s.canary.canaryPercent);
          else if (sd.production < 100 && sim - (sd.stepSim ?? sim) >= s.canary.canaryBakeTimeInMinutes * minute) shift(100);
        } else if (sd.production < 100) {
          shift(100);
        }
        return sd.production >= 100;
      }
      case 'BAKE_TIME':
        return sim - sd.stageSim >= sd.settings.bakeTimeInMinutes * minute;
      case 'CLEAN_UP':
        return svc.sets.every((s) => s === sd.targetSet || !hasTasks(s));
      default:
        return true;
    }
  }

  /** Moves a task along its lifecycle; collects tasks that became ready or failed. */
  private advanceTask(task: TaskState, sim: number, now: number, ready: TaskState[], failed: TaskState[]): void {
    const { taskStartMs, healthyMs, drainMs } = this.timing;
    for (;;) {
      const before = task.lastStatus;
      switch (task.lastStatus) {
        case 'PROVISIONING':
          if (sim - task.simCreated >= taskStartMs * 0.3) {
            task.lastStatus = 'PENDING';
            task.pullStartedAt = now;
          }
          break;
        case 'PENDING':
          if (sim - task.simCreated >= taskStartMs) {
            task.lastStatus = 'RUNNING';
            task.pullStoppedAt = task.startedAt = now;
            task.simRunning = sim;
            for (const c of task.containers) c.lastStatus = 'RUNNING';
          }
          break;
        case 'RUNNING':
          if (task.ready && task.desiredStatus === 'RUNNING') {
            const rule = this.failureRuleFor(task);
            if (rule?.afterHealthyMs !== undefined && sim - (task.simReady ?? sim) >= rule.afterHealthyMs) {
              this.failTask(task, rule, now);
              failed.push(task);
              task.version++;
            }
          } else if (task.desiredStatus === 'RUNNING' && !task.ready && sim - (task.simRunning ?? sim) >= healthyMs) {
            const rule = this.failureRuleFor(task);
            if (rule && rule.afterHealthyMs === undefined) {
              this.failTask(task, rule, now);
              failed.push(task);
            } else {
              task.ready = true;
              task.simReady = sim;
              for (const c of task.containers) if (c.healthChecked) c.health = 'HEALTHY';
              ready.push(task);
            }
            task.version++;
          }
          break;
        case 'DEACTIVATING':
        case 'DEPROVISIONING':
          if (sim - (task.simStopping ?? sim) >= drainMs) {
            task.lastStatus = 'STOPPED';
            task.stoppedAt = now;
            for (const c of task.containers) {
              if (c.lastStatus === 'RUNNING') c.exitCode = 0;
              c.lastStatus = 'STOPPED';
            }
          }
          break;
        case 'STOPPED':
          break;
      }
      if (task.lastStatus === before) return;
      task.version++;
    }
  }

  private failureRuleFor(task: TaskState): FailureRule | undefined {
    return this.failureRules.find((r) => task.containers.some((c) => matches(r.match, c.image)));
  }

  /** Stops a task the way a failing container does. */
  private failTask(task: TaskState, rule: FailureRule, now: number): void {
    const exited = rule.exitCode !== undefined;
    for (const c of task.containers) {
      const culprit = matches(rule.match, c.image);
      c.lastStatus = 'STOPPED';
      if (culprit) {
        c.exitCode = exited ? rule.exitCode : 137;
        if (rule.reason) c.reason = rule.reason;
        if (!exited) c.health = 'UNHEALTHY';
      } else {
        c.exitCode = 0;
      }
    }
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPED';
    task.stopCode = exited ? 'EssentialContainerExited' : 'TaskFailedToStart';
    task.stoppedReason = rule.reason ?? (exited ? 'Essential container in task exited' : HEALTH_CHECK_FAILURE);
    task.stoppingAt = task.stoppedAt = now;
  }

  /** Counts a failed task and applies the circuit breaker. */
  private onTaskFailed(task: TaskState, now: number): void {
    const svc = task.service;
    const set = task.set;
    set.failedTasks++;
    set.updatedAt = now;
    if (task.stoppedReason === HEALTH_CHECK_FAILURE) {
      this.event(svc, `(service ${svc.name}) (task ${task.id}) failed container health checks.`, now);
    }
    if (set === svc.primary && set.failedTasks >= this.threshold && !set.announcedImpaired) {
      set.announcedImpaired = true;
      this.serviceAction(svc, 'WARN', 'SERVICE_TASK_START_IMPAIRED', now);
    }
    const sd = svc.current;
    if (!sd) return;
    if (sd.status === 'IN_PROGRESS' && sd.targetSet === set) {
      sd.updatedAt = now;
      if (!sd.settings.breaker.enable || set.failedTasks < this.threshold || sd.breakerStatus === 'TRIGGERED') return;
      sd.breakerStatus = 'TRIGGERED';
      if (sd.settings.breaker.rollback) {
        this.beginRollback(sd, BREAKER_ROLLBACK_REASON, now);
      } else {
        // Without rollback the deployment is marked failed but ECS keeps replacing tasks.
        this.markFailed(set, now);
      }
    } else if (sd.status === 'ROLLBACK_IN_PROGRESS' && sd.rollbackSet === set) {
      if (set.failedTasks - (sd.rollbackBaseline ?? 0) < this.threshold) return;
      sd.status = 'ROLLBACK_FAILED';
      sd.statusReason = 'Service deployment rollback failed: tasks failed to start.';
      sd.finishedAt = now;
      sd.updatedAt = now;
      this.markFailed(set, now);
    }
  }

  /** Marks a task set's rollout FAILED; `reason` defaults to the circuit breaker's. */
  private markFailed(set: TaskSetState, now: number, reason = CIRCUIT_BREAKER_REASON): void {
    const svc = set.revision.service;
    set.rolloutState = 'FAILED';
    set.rolloutStateReason = reason;
    set.updatedAt = now;
    this.deploymentEvent(set, 'SERVICE_DEPLOYMENT_FAILED', reason, now);
    if (reason === CIRCUIT_BREAKER_REASON) {
      this.event(svc, `(service ${svc.name}) (deployment ${set.id}) deployment failed: tasks failed to start.`, now);
    }
  }

  /**
   * Rolls a service deployment back to the last completed revision. `requested` marks a
   * StopServiceDeployment rollback rather than a tripped circuit breaker.
   */
  private beginRollback(sd: ServiceDeploymentState, reason: string, now: number, cause: 'breaker' | 'request' | 'alarm' | 'hook' = 'breaker'): void {
    const svc = sd.service;
    const failedSet = sd.targetSet;
    const stable = svc.stable;
    if (failedSet.rolloutState !== 'FAILED') {
      const why = {
        breaker: CIRCUIT_BREAKER_REASON,
        request: `ECS deployment ${failedSet.id} rolled back by request.`,
        alarm: `ECS deployment ${failedSet.id} rolled back: alarms in ALARM state: ${sd.triggeredAlarms.join(', ')}.`,
        hook: `ECS deployment ${failedSet.id} rolled back: ${reason}`,
      }[cause];
      this.markFailed(failedSet, now, why);
    }
    // Traffic returns to the revision that served it.
    sd.production = 0;
    sd.test = 0;
    if (!stable || stable === sd.target) {
      sd.status = 'ROLLBACK_FAILED';
      sd.statusReason = 'Service deployment rollback failed: there is no completed service revision to roll back to.';
      sd.finishedAt = now;
      sd.updatedAt = now;
      return;
    }
    let set = svc.sets.find((s) => s.revision === stable);
    if (!set) {
      set = newTaskSet(stable, 'PRIMARY', now);
      svc.sets.push(set);
    }
    for (const s of svc.sets) s.status = s === set ? 'PRIMARY' : 'ACTIVE';
    svc.sets = [set, ...svc.sets.filter((s) => s !== set)];
    svc.primary = set;
    set.rolloutState = 'IN_PROGRESS';
    set.rolloutStateReason = `ECS deployment ${set.id} in progress.`;
    set.updatedAt = now;
    svc.steady = false;

    sd.status = 'ROLLBACK_IN_PROGRESS';
    sd.statusReason = reason;
    sd.rollback = { reason, startedAt: now, serviceRevisionArn: stable.arn };
    sd.rollbackSet = set;
    sd.rollbackBaseline = set.failedTasks;
    sd.rollbackSim = this.clock.now();
    sd.updatedAt = now;
    this.event(svc, `(service ${svc.name}) rolling back to deployment ${set.id}.`, now);
    set.announcedImpaired = false;
    this.deploymentEvent(set, 'SERVICE_DEPLOYMENT_IN_PROGRESS', `${ROLLBACK_CAUSE[cause]}: rolling back to deploymentId ${set.id}.`, now);
  }

  /** Launches and stops tasks: the rolling-update scheduler (and any rollback). */
  private schedule(svc: ServiceState, sim: number, now: number): void {
    const primary = svc.primary;
    if (!primary) return;
    const desired = svc.desiredCount;
    const others = svc.sets.filter((s) => s !== primary);
    const started: TaskState[] = [];
    const stopped: TaskState[] = [];
    const stop = (task: TaskState, reason: string) => {
      this.stopTask(task, reason, sim, now);
      stopped.push(task);
    };

    // Too many primary tasks (scale-in): stop the least advanced first.
    const primaryLive = live(primary);
    if (primaryLive.length > desired) {
      const extra = [...primaryLive].sort((a, b) => Number(a.ready) - Number(b.ready) || b.seq - a.seq);
      for (const task of extra.slice(0, primaryLive.length - desired)) stop(task, scalingReason(primary));
    }
    // Old tasks that do not serve traffic can go right away.
    for (const set of others) for (const task of live(set)) if (!task.ready) stop(task, scalingReason(primary));

    // Launch primary tasks within maximumPercent.
    const maxTotal = Math.max(desired, Math.floor((desired * svc.settings.maximumPercent) / 100));
    const totalLive = svc.sets.reduce((n, s) => n + live(s).length, 0);
    const need = desired - live(primary).length;
    const launch = Math.max(0, Math.min(need, maxTotal - totalLive));
    for (let i = 0; i < launch; i++) started.push(this.launchTask(svc, primary, sim, now));

    // Stop healthy old tasks while keeping minimumHealthyPercent.
    const minHealthy = Math.ceil((desired * svc.settings.minimumHealthyPercent) / 100);
    const readyPrimary = live(primary).filter((t) => t.ready).length;
    const oldReady = others.flatMap((s) => live(s).filter((t) => t.ready)).sort((a, b) => a.seq - b.seq);
    let canStop = readyPrimary + oldReady.length - minHealthy;
    const starting = live(primary).some((t) => !t.ready);
    if (need - launch > 0 && canStop <= 0 && !starting) canStop = 1; // no room either way: make room
    for (const task of oldReady.slice(0, Math.max(0, canStop))) stop(task, scalingReason(primary));

    if (started.length) {
      this.event(svc, `(service ${svc.name}) has started ${started.length} tasks: ${taskList(started)}.`, now);
    }
    if (stopped.length) {
      const serving = stopped.filter((t) => t.lastStatus === 'DEACTIVATING').length;
      if (serving && svc.loadBalancers.length) {
        this.event(svc, `(service ${svc.name}) has begun draining connections on ${serving} tasks.`, now);
        this.targetsEvent(svc, 'deregistered', serving, now);
      }
      this.event(svc, `(service ${svc.name}) has stopped ${stopped.length} running tasks: ${taskList(stopped)}.`, now);
    }
  }

  /** Completes deployments whose PRIMARY runs the desired count with no old task left. */
  private checkCompletion(svc: ServiceState, sim: number, now: number): void {
    const primary = svc.primary;
    if (!primary) return;
    const sd = svc.current;
    // Old task sets leave the list once drained; a failed one stays while its rollback runs,
    // so that a rolled-back service ends as on ECS: the rolled-back-to deployment alone.
    const rollingBack = sd?.status === 'ROLLBACK_IN_PROGRESS';
    svc.sets = svc.sets.filter((s) => s === primary || hasTasks(s) || (rollingBack && s === sd.targetSet));

    const primaryLive = live(primary);
    const settling = rollingBack && sim - (sd.rollbackSim ?? sim) < this.timing.healthyMs;
    const staged = sd?.status === 'IN_PROGRESS' && sd.stage !== undefined && sd.stage !== 'CLEAN_UP';
    const done = !settling && !staged && primaryLive.length === svc.desiredCount && primaryLive.every((t) => t.ready) && svc.sets.every((s) => s === primary || !hasTasks(s));
    if (!done) {
      svc.steady = false;
      this.checkEarlySuccess(svc, primary, now);
      return;
    }
    if (primary.rolloutState === 'IN_PROGRESS' || primary.rolloutState === 'FAILED') {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
      primary.updatedAt = now;
      this.event(svc, `(service ${svc.name}) (deployment ${primary.id}) deployment completed.`, now);
      this.deploymentEvent(primary, 'SERVICE_DEPLOYMENT_COMPLETED', primary.rolloutStateReason, now);
    }
    if (sd && sd.status === 'IN_PROGRESS' && sd.targetSet === primary) {
      sd.status = 'SUCCESSFUL';
      sd.statusReason = undefined;
      sd.finishedAt = now;
      sd.updatedAt = now;
      if (sd.breakerStatus === 'MONITORING') sd.breakerStatus = 'MONITORING_COMPLETE';
      svc.stable = sd.target;
      svc.sets = [primary];
      if (sd.alarmStatus === 'MONITORING') sd.alarmStatus = 'MONITORING_COMPLETE';
    } else if (sd && sd.status === 'ROLLBACK_IN_PROGRESS' && sd.rollbackSet === primary) {
      sd.status = 'ROLLBACK_SUCCESSFUL';
      sd.finishedAt = now;
      sd.updatedAt = now;
      svc.sets = [primary];
    }
    if (!svc.steady) {
      svc.steady = true;
      this.event(svc, `(service ${svc.name}) has reached a steady state.`, now);
      this.serviceAction(svc, 'INFO', 'SERVICE_STEADY_STATE', now);
    }
  }

  /**
   * ROLLING with earlySuccessCriteria: the deployment succeeds once `healthyPercent` of the
   * desired tasks of the new revision are healthy (and, with BLOCKING cleanup, the old tasks
   * are gone); the scheduler goes on to the full count in the background.
   */
  private checkEarlySuccess(svc: ServiceState, primary: TaskSetState, now: number): void {
    const sd = svc.current;
    const early = sd?.settings.earlySuccess;
    if (!sd || !early || sd.status !== 'IN_PROGRESS' || sd.stage !== undefined || sd.targetSet !== primary) return;
    const ready = live(primary).filter((t) => t.ready).length;
    const needed = Math.max(1, Math.ceil((svc.desiredCount * early.healthyPercent) / 100));
    const oldLeft = svc.sets.some((s) => s !== primary && hasTasks(s));
    if (ready < needed || (early.cleanup === 'BLOCKING' && oldLeft)) return;
    sd.status = 'SUCCESSFUL';
    sd.statusReason = `Service deployment met its early success criteria: ${ready} of ${svc.desiredCount} tasks healthy (${early.healthyPercent}% needed); the rest continue in the background.`;
    sd.finishedAt = now;
    sd.updatedAt = now;
    if (sd.breakerStatus === 'MONITORING') sd.breakerStatus = 'MONITORING_COMPLETE';
    if (sd.alarmStatus === 'MONITORING') sd.alarmStatus = 'MONITORING_COMPLETE';
    svc.stable = sd.target;
  }

  /** Forgets the oldest stopped tasks beyond a bound (looked at once a second at most). */
  private prune(svc: ServiceState): void {
    const now = Date.now();
    if (svc.prunedAt !== undefined && now - svc.prunedAt < 1000) return;
    svc.prunedAt = now;
    const stopped = [...svc.cluster.tasks.values()].filter((t) => t.service === svc && t.lastStatus === 'STOPPED');
    if (stopped.length <= MAX_STOPPED_TASKS) return;
    const drop = new Set(stopped.sort((a, b) => a.seq - b.seq).slice(0, stopped.length - MAX_STOPPED_TASKS));
    for (const set of svc.sets) set.tasks = set.tasks.filter((t) => !drop.has(t));
    for (const t of drop) svc.cluster.tasks.delete(t.id);
  }

  private launchTask(svc: ServiceState, set: TaskSetState, sim: number, now: number): TaskState {
    const id = taskId();
    const containers: ContainerState[] = (set.revision.td.body.containerDefinitions ?? []).map((c) => ({
      id: uuid(),
      name: c.name ?? 'container',
      image: c.image ?? '',
      essential: c.essential ?? true,
      healthChecked: c.healthCheck !== undefined,
      cpu: c.cpu ?? 0,
      ...(c.memory !== undefined ? { memory: c.memory } : {}),
      lastStatus: 'PENDING',
      health: 'UNKNOWN',
    }));
    const task: TaskState = {
      seq: ++this.seq,
      id,
      arn: arns.task(svc.cluster.name, id),
      service: svc,
      set,
      td: set.revision.td,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      ready: false,
      simCreated: sim,
      createdAt: now,
      containers,
      version: 1,
      privateIp: `10.0.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 2}`,
    };
    set.tasks.push(task);
    set.updatedAt = now;
    svc.cluster.tasks.set(id, task);
    return task;
  }

  private stopTask(task: TaskState, reason: string, sim: number, now: number): void {
    task.desiredStatus = 'STOPPED';
    task.lastStatus = task.lastStatus === 'RUNNING' ? 'DEACTIVATING' : 'DEPROVISIONING';
    task.ready = false;
    task.stoppingAt = now;
    task.simStopping = sim;
    task.stopCode = 'ServiceSchedulerInitiated';
    task.stoppedReason = reason;
    task.version++;
    task.set.updatedAt = now;
  }

  private newRevision(svc: ServiceState, td: TaskDefinitionRecord, now: number): ServiceRevisionState {
    const id = numericId();
    const revision: ServiceRevisionState = {
      id,
      arn: arns.serviceRevision(svc.cluster.name, svc.name, id),
      service: svc,
      td,
      createdAt: now,
      loadBalancers: clone(svc.loadBalancers),
      networkConfiguration: clone(svc.networkConfiguration),
    };
    this.revisions.set(revision.arn, revision);
    return revision;
  }

  private newServiceDeployment(svc: ServiceState, target: ServiceRevisionState, targetSet: TaskSetState, sources: ServiceRevisionState[], now: number): ServiceDeploymentState {
    const id = serviceDeploymentId();
    const sd: ServiceDeploymentState = {
      seq: ++this.seq,
      id,
      arn: arns.serviceDeployment(svc.cluster.name, svc.name, id),
      service: svc,
      createdAt: now,
      updatedAt: now,
      status: 'PENDING',
      target,
      targetSet,
      sources,
      breakerStatus: svc.settings.breaker.enable ? 'MONITORING' : 'DISABLED',
      configuration: deploymentConfiguration(svc),
      settings: clone(svc.settings),
      ...(svc.settings.strategy !== 'ROLLING' ? { stage: 'RECONCILE_SERVICE' as const } : {}),
      stageSim: this.clock.now(),
      hooks: [],
      hookedStages: [],
      production: 0,
      test: 0,
      productionPeak: 0,
      alarmStatus: svc.settings.alarms.enable ? 'MONITORING' : 'DISABLED',
      triggeredAlarms: [],
    };
    svc.deployments.push(sd);
    svc.current = sd;
    this.serviceDeployments.set(sd.arn, sd);
    return sd;
  }

  /**
   * An "ECS Deployment State Change" event about a task set (a DescribeServices deployment).
   * A run of a deployment ends with one COMPLETED or FAILED event, whichever comes first.
   */
  private deploymentEvent(set: TaskSetState, eventName: DeploymentEventName, reason: string, now: number): void {
    if (eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS') {
      set.announcedEnd = false;
    } else {
      if (set.announcedEnd) return;
      set.announcedEnd = true;
    }
    this.onEvent?.({
      detailType: 'ECS Deployment State Change',
      serviceArn: set.revision.service.arn,
      detail: { eventType: eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO', eventName, deploymentId: set.id, updatedAt: new Date(now).toISOString(), reason },
    });
  }

  /** An "ECS Service Action" event. */
  private serviceAction(svc: ServiceState, eventType: 'INFO' | 'WARN', eventName: ServiceActionEventName, now: number): void {
    this.onEvent?.({
      detailType: 'ECS Service Action',
      serviceArn: svc.arn,
      detail: { eventType, eventName, clusterArn: svc.cluster.arn, createdAt: new Date(now).toISOString() },
    });
  }

  private event(svc: ServiceState, message: string, now: number): void {
    svc.events.unshift({ id: uuid(), createdAt: now, message });
    if (svc.events.length > MAX_EVENTS) svc.events.length = MAX_EVENTS;
  }

  private targetsEvent(svc: ServiceState, verb: 'registered' | 'deregistered', count: number, now: number): void {
    for (const lb of svc.loadBalancers) {
      if (lb.targetGroupArn) this.event(svc, `(service ${svc.name}) ${verb} ${count} targets in (target-group ${lb.targetGroupArn})`, now);
    }
  }
}

function newTaskSet(revision: ServiceRevisionState, status: 'PRIMARY' | 'ACTIVE', now: number): TaskSetState {
  const id = `ecs-svc/${numericId()}`;
  return {
    id,
    revision,
    status,
    failedTasks: 0,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${id} in progress.`,
    createdAt: now,
    updatedAt: now,
    tasks: [],
  };
}

export function deploymentConfiguration(svc: ServiceState): Wire<DeploymentConfiguration> {
  return renderSettings(svc.settings);
}

function defaultNetwork(): NetworkConfiguration {
  return {
    awsvpcConfiguration: {
      subnets: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      securityGroups: ['sg-0a1b2c3d4e5f60001'],
      assignPublicIp: 'DISABLED',
    },
  };
}

/** Tasks the scheduler counts: desired RUNNING. */
export function live(set: TaskSetState): TaskState[] {
  return set.tasks.filter((t) => t.desiredStatus === 'RUNNING');
}

export function hasTasks(set: TaskSetState): boolean {
  return set.tasks.some((t) => t.lastStatus !== 'STOPPED');
}

export function running(set: TaskSetState): number {
  return set.tasks.filter((t) => t.lastStatus === 'RUNNING').length;
}

export function pending(set: TaskSetState): number {
  return set.tasks.filter((t) => t.desiredStatus === 'RUNNING' && (t.lastStatus === 'PROVISIONING' || t.lastStatus === 'PENDING')).length;
}

/** The desired count of a task set: the service's for PRIMARY, what is left for older sets. */
export function requested(set: TaskSetState): number {
  return set.status === 'PRIMARY' ? set.revision.service.desiredCount : live(set).length;
}

export function taskHealth(task: TaskState): HealthStatus {
  const checked = task.containers.filter((c) => c.healthChecked || c.health === 'UNHEALTHY');
  if (!checked.length) return 'UNKNOWN';
  if (checked.some((c) => c.health === 'UNHEALTHY' && c.essential)) return 'UNHEALTHY';
  return checked.every((c) => c.health === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

function matches(match: string | RegExp, image: string): boolean {
  if (typeof match === 'string') return image.includes(match);
  match.lastIndex = 0;
  return match.test(image);
}

function hookName(run: HookRun): string {
  return run.hook.targetType === 'PAUSE' ? `PAUSE ${run.hookId}` : (run.hook.hookTargetArn ?? run.hookId);
}

function scalingReason(primary: TaskSetState): string {
  return `Scaling activity initiated by (deployment ${primary.id})`;
}

function taskList(tasks: TaskState[]): string {
  return tasks.map((t) => `(task ${t.id})`).join(' ');
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function clusterOfServiceArn(ref: string): string | undefined {
  const m = /:service\/([^/]+)\/[^/]+$/.exec(ref);
  return m ? m[1] : undefined;
}
