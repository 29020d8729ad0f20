/**
 * ECS activities: register the rendered revision, point the service at it, and watch the
 * rollout. Every effect is safe to retry: a retried registration finds the revision it
 * registered before (tagged with the deployment's identity), a retried UpdateService
 * finds the service deployment it started before.
 */
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type ServiceDeployment,
  type Task,
  type TaskDefinition,
  type ECSClientResolvedConfig,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-ecs';
import type { Command } from '@smithy/types';
import { Context } from '@temporalio/activity';
import type { Target } from '../domain/config';
import { NotFound } from '../domain/errors';
import { METRICS } from '../domain/metrics';
import { judge, revisionOf, type Observation, type Verdict } from '../domain/outcome';
import { renderTaskDefinition } from '../domain/render';
import { hookLabel, type DeploymentSettings, type StopType, type Strategy } from '../domain/strategy';
import type { TaskCounts } from '../contract';
import { rethrowAws } from './aws-errors';
import { Batcher } from './ecs-batch';
import { attempt, withHeartbeat } from './heartbeat';

/** Tag keys put on every revision Slipway registers. */
export const DEPLOYMENT_TAG = 'slipway:deployment';
export const IMAGE_TAG_TAG = 'slipway:image-tag';
/**
 * How far ECS's clock (a service deployment's `createdAt`) may be behind Temporal's (an
 * activity's scheduled time) when telling an attempt's own deployment from earlier ones.
 */
const CLOCK_SKEW_MS = 1_000;

export interface EcsDeps {
  /**
   * An ECS client for a region. For mutating calls (`mutating: true`) it must not retry
   * inside the SDK: a resent RegisterTaskDefinition or UpdateService whose first answer was
   * lost would apply twice. Those are retried by Temporal instead, and the retry first
   * looks for the effect of the earlier attempt.
   */
  ecs: (region: string, opts?: { mutating?: boolean }) => ECSClient;
  /** Poll interval bounds for the rollout watch, in ms (defaults 1000 and 1500). */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** Paces rollout watches to the region's ECS budget (see activities/ecs-budget.ts). */
  ecsPace?: (region: string) => WatchPace;
  /** How long a look waits for others to share its DescribeServices / DescribeServiceDeployments call, in ms (default 20). */
  batchWindowMs?: number;
}

/** Spreads the watches of a worker over its ECS budget. */
export interface WatchPace {
  /** The poll interval for the watch `key` instead of `baseMs`, given the watches in flight and the budget. */
  pollIntervalMs(baseMs: number, key: string): number;
  /**
   * The time until the next reconciling read of the event-watched rollout `key`: at least
   * `baseMs`, longer when the watches in flight (each costing `callsPerLook` service reads
   * a look) would otherwise take more than their part of the service-read budget.
   */
  reconcileIntervalMs(baseMs: number, key: string, callsPerLook: number): number;
}

export interface RegisterRevisionInput {
  target: Target;
  tag: string;
  /** Identity of the deployment (`<workflowId>/<runId>`), tagged on the revision. */
  deploymentId: string;
}

export interface RegisteredRevision {
  taskDefinitionArn: string;
  revision: number;
  images: string[];
  /** True when an earlier attempt had already registered it. */
  reused: boolean;
}

export interface UpdateServiceInput {
  target: Target;
  taskDefinitionArn: string;
}

export interface StartedServiceDeployment {
  serviceDeploymentArn: string;
  /** Epoch ms of the service deployment's creation: events before it are not ours. */
  startedAt: number;
  reused: boolean;
}

/** Where the watch left off: what has already been reported. */
export interface WatchCursor {
  since: number;
  seenEventIds: string[];
  seenStoppedTasks: string[];
  failedSeen: number;
  status?: string;
  countsKey?: string;
  /** Lifecycle stage, traffic and hook states last reported. */
  stageKey?: string;
}

export interface WatchInput {
  target: Target;
  taskDefinitionArn: string;
  serviceDeploymentArn: string;
  cursor: WatchCursor;
  /** Return after this long even if nothing changed. */
  maxWaitSeconds: number;
  /**
   * BLUE_GREEN, LINEAR or CANARY: the stage and traffic live in the service deployment
   * only, so it is described at every look.
   */
  staged?: boolean;
  /** ROLLING with early success criteria: the share of desired tasks that makes a success (percent). */
  earlySuccessPercent?: number;
}

/** One look at a rollout watched by ECS's events (`observeDeployment`). */
export interface ObserveInput {
  target: Target;
  taskDefinitionArn: string;
  serviceDeploymentArn: string;
  cursor: WatchCursor;
  /** The least time until the next reconciling look, in seconds (`aws.events.reconcileSeconds`). */
  reconcileSeconds: number;
  /**
   * Deployment IDs (`ecs-svc/...`) that ECS's SERVICE_DEPLOYMENT_IN_PROGRESS events named since
   * the update. When one is this rollout's and the service read shows it still rolling out, the
   * look takes its status from the event and does not describe the service deployment.
   */
  inProgressHeard?: string[];
}

export interface ObserveReport extends WatchReport {
  /** When to look again if no event comes first, in ms: the reconcile interval, stretched to the ECS budget. */
  nextLookMs: number;
}

export interface WatchReport {
  verdict: Verdict;
  status: string;
  /** Why the service deployment is in its status, as ECS says (e.g. early success, a rollback). */
  statusReason?: string;
  counts: TaskCounts;
  newEvents: string[];
  newStoppedReasons: string[];
  cursor: WatchCursor;
  /** BLUE_GREEN, LINEAR, CANARY: the lifecycle stage and requested traffic weights of the new revision. */
  lifecycleStage?: string;
  traffic?: { production: number; test: number };
  /** Lifecycle hooks of the deployment and their status. */
  hooks?: { hookId: string; name: string; status: string }[];
  triggeredAlarmNames?: string[];
}

export interface StopDeploymentInput {
  target: Target;
  serviceDeploymentArn: string;
  stopType: StopType;
}

export interface ContinueDeploymentInput {
  target: Target;
  serviceDeploymentArn: string;
  /** The PAUSE hook awaiting action (its `hookId` in `lifecycleHookDetails`). */
  hookId: string;
  action: 'CONTINUE' | 'ROLLBACK';
}

export interface AwaitRollbackInput {
  target: Target;
  /** A service deployment stopped with ROLLBACK. */
  serviceDeploymentArn: string;
  /** The revision the caller wants the service back on: any other rollback target is answered at once. */
  expectedTaskDefinitionArn: string;
  maxWaitSeconds: number;
}

export interface AwaitedRollback {
  /** The service deployment's status when the wait ended. */
  status: string;
  /** The task definition ECS rolls (or rolled) the service back to, once it says. */
  rolledBackTo?: string;
  /** What runs once the rollback succeeded. */
  counts?: TaskCounts;
}

export function createEcsActivities(deps: EcsDeps) {
  const pollMin = deps.pollMinMs ?? 1000;
  const pollMax = deps.pollMaxMs ?? 1500;
  const window = deps.batchWindowMs ?? 20;
  // Looks at rollouts share their reads: services per (region, cluster), service deployments per region.
  const services = new Batcher<Service>(10, window, async (group, names) => {
    const [region, cluster] = JSON.parse(group) as [string, string];
    const out = await send(
      region,
      names.length === 1 ? `describing service ${cluster}/${names[0]}` : `describing ${names.length} services in ${cluster}`,
      new DescribeServicesCommand({ cluster, services: names }),
    );
    return new Map((out.services ?? []).map((svc) => [svc.serviceName ?? '', svc]));
  });
  const serviceDeployments = new Batcher<ServiceDeployment>(20, window, async (region, arns) => {
    const out = await send(
      region,
      arns.length === 1 ? 'describing the service deployment' : `describing ${arns.length} service deployments`,
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns }),
    );
    return new Map((out.serviceDeployments ?? []).map((sd) => [sd.serviceDeploymentArn ?? '', sd]));
  });

  /** One ECS call through the account's budget, its AWS error translated; the output typed as the SDK types it. */
  async function send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    region: string,
    what: string,
    command: Command<ServiceInputTypes, I, ServiceOutputTypes, O, ECSClientResolvedConfig>,
    signal?: AbortSignal,
    notFoundHint?: string,
  ): Promise<O> {
    const mutating =
      command instanceof RegisterTaskDefinitionCommand ||
      command instanceof UpdateServiceCommand ||
      command instanceof StopServiceDeploymentCommand ||
      command instanceof ContinueServiceDeploymentCommand;
    try {
      return await deps.ecs(region, { mutating }).send(command, signal ? { abortSignal: signal } : undefined);
    } catch (err) {
      rethrowAws(err, what, notFoundHint);
    }
  }

  /** Finds a revision of the family tagged with this deployment's identity (a retry after a lost answer). */
  async function findOwnRevision(target: Target, deploymentId: string, signal?: AbortSignal) {
    const list = await send(target.region, 'listing task definitions', new ListTaskDefinitionsCommand({ familyPrefix: target.family, sort: 'DESC', maxResults: 10 }), signal);
    for (const arn of list.taskDefinitionArns ?? []) {
      if (!revisionOf(arn).startsWith(`${target.family}:`)) continue;
      const d = await send(target.region, `describing ${revisionOf(arn)}`, new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }), signal);
      if ((d.tags ?? []).some((t) => t.key === DEPLOYMENT_TAG && t.value === deploymentId)) return d;
    }
    return undefined;
  }

  return {
    /** How the service deploys (strategy, bake time, hooks, alarms) and how many tasks it wants: read before any change. */
    async readDeploymentSettings(input: { target: Target }): Promise<DeploymentSettings> {
      const { target } = input;
      const out = await send(
        target.region,
        `describing service ${target.cluster}/${target.service}`,
        new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }),
        undefined,
        `check apps.${target.app}.environments.${target.env}.cluster/service in the config`,
      );
      const svc = out.services?.[0];
      if (!svc) {
        throw new NotFound(
          `service ${target.cluster}/${target.service} was not found in ${target.region}: check apps.${target.app}.environments.${target.env}.cluster/service in the config`,
        );
      }
      const dc = svc.deploymentConfiguration ?? {};
      const strategy = (dc.strategy ?? 'ROLLING') as Strategy;
      return {
        desiredCount: svc.desiredCount ?? 0,
        ...(svc.taskDefinition ? { taskDefinitionArn: svc.taskDefinition } : {}),
        strategy,
        bakeTimeInMinutes: dc.bakeTimeInMinutes ?? 0,
        ...(strategy === 'LINEAR' && dc.linearConfiguration
          ? { linear: { stepPercent: dc.linearConfiguration.stepPercent ?? 10, stepBakeTimeInMinutes: dc.linearConfiguration.stepBakeTimeInMinutes ?? 0 } }
          : {}),
        ...(strategy === 'CANARY' && dc.canaryConfiguration
          ? { canary: { canaryPercent: dc.canaryConfiguration.canaryPercent ?? 5, canaryBakeTimeInMinutes: dc.canaryConfiguration.canaryBakeTimeInMinutes ?? 0 } }
          : {}),
        hooks: (dc.lifecycleHooks ?? []).map((h) => ({
          targetType: h.targetType === 'PAUSE' ? 'PAUSE' : 'AWS_LAMBDA',
          ...(h.hookTargetArn ? { targetArn: h.hookTargetArn } : {}),
          stages: [...(h.lifecycleStages ?? [])],
          ...(h.timeoutConfiguration?.timeoutInMinutes ? { timeoutInMinutes: h.timeoutConfiguration.timeoutInMinutes } : {}),
          ...(h.timeoutConfiguration?.action ? { timeoutAction: h.timeoutConfiguration.action } : {}),
        })),
        ...(dc.alarms?.enable ? { alarms: { names: [...(dc.alarms.alarmNames ?? [])], rollback: dc.alarms.rollback === true } } : {}),
        circuitBreaker: { enable: dc.deploymentCircuitBreaker?.enable === true, rollback: dc.deploymentCircuitBreaker?.rollback === true },
        ...(strategy === 'ROLLING' && dc.earlySuccessCriteria?.enable
          ? {
              earlySuccess: {
                healthyPercent: dc.earlySuccessCriteria.healthyPercent ?? 100,
                cleanup: dc.earlySuccessCriteria.sourceServiceRevisionCleanup === 'DEFERRED' ? ('DEFERRED' as const) : ('BLOCKING' as const),
              },
            }
          : {}),
      };
    },

    /**
     * Ends the service deployment Slipway started (StopServiceDeployment). Safe to repeat:
     * a deployment that already ended is left alone and reported as it is.
     */
    async stopServiceDeployment(input: StopDeploymentInput): Promise<{ stopped: boolean; status: string }> {
      const { target, serviceDeploymentArn, stopType } = input;
      const look = async () => {
        const out = await send(target.region, 'describing the service deployment', new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] }));
        return out.serviceDeployments?.[0]?.status ?? 'UNKNOWN';
      };
      const before = await look();
      if (before !== 'PENDING' && before !== 'IN_PROGRESS') return { stopped: false, status: before };
      try {
        await send(target.region, `stopping the service deployment (${stopType})`, new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType }));
      } catch (err) {
        // It ended between the look and the stop: not an error.
        const now = await look();
        if (now !== 'PENDING' && now !== 'IN_PROGRESS') return { stopped: false, status: now };
        throw err;
      }
      return { stopped: true, status: await look() };
    },

    /**
     * Follows the rollback ECS runs for a stopped service deployment: which revision it
     * returns the service to, and — when that is the expected one — until it ends.
     */
    async awaitEcsRollback(input: AwaitRollbackInput): Promise<AwaitedRollback> {
      const ctx = Context.current();
      const { target, serviceDeploymentArn } = input;
      const deadline = Date.now() + input.maxWaitSeconds * 1000;
      for (;;) {
        const out = await send(
          target.region,
          'describing the service deployment',
          new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] }),
          ctx.cancellationSignal,
        );
        const sd = out.serviceDeployments?.[0];
        const status = sd?.status ?? 'UNKNOWN';
        let rolledBackTo: string | undefined;
        if (sd?.rollback?.serviceRevisionArn) {
          const revs = await send(
            target.region,
            'describing the revision rolled back to',
            new DescribeServiceRevisionsCommand({ serviceRevisionArns: [sd.rollback.serviceRevisionArn] }),
            ctx.cancellationSignal,
          );
          rolledBackTo = revs.serviceRevisions?.[0]?.taskDefinition;
        }
        const rollingBack = status === 'ROLLBACK_REQUESTED' || status === 'ROLLBACK_IN_PROGRESS';
        if ((rolledBackTo && rolledBackTo !== input.expectedTaskDefinitionArn) || !rollingBack || Date.now() > deadline) {
          if (status !== 'ROLLBACK_SUCCESSFUL') return { status, ...(rolledBackTo && { rolledBackTo }) };
          const svc = await send(
            target.region,
            `describing service ${target.cluster}/${target.service}`,
            new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }),
            ctx.cancellationSignal,
          );
          const primary = svc.services?.[0]?.deployments?.find((d) => d.status === 'PRIMARY');
          return { status, ...(rolledBackTo && { rolledBackTo }), counts: countsOf(primary, undefined, 0) };
        }
        ctx.heartbeat();
        await ctx.sleep(pollMin);
      }
    },

    /**
     * Answers a PAUSE lifecycle hook (ContinueServiceDeployment). Safe to repeat: a hook no
     * longer awaiting action (answered by an earlier attempt, timed out) is left alone and
     * reported as it is.
     */
    async continueServiceDeployment(input: ContinueDeploymentInput): Promise<{ answered: boolean; hookStatus: string }> {
      const { target, serviceDeploymentArn, hookId, action } = input;
      const look = async () => {
        const out = await send(target.region, 'describing the service deployment', new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] }));
        return out.serviceDeployments?.[0]?.lifecycleHookDetails?.find((h) => h.hookId === hookId)?.status ?? 'UNKNOWN';
      };
      const before = await look();
      if (before !== 'AWAITING_ACTION') return { answered: false, hookStatus: before };
      try {
        await send(target.region, `answering the PAUSE hook (${action})`, new ContinueServiceDeploymentCommand({ serviceDeploymentArn, hookId, action }));
      } catch (err) {
        const now = await look();
        if (now !== 'AWAITING_ACTION') return { answered: false, hookStatus: now };
        throw err;
      }
      return { answered: true, hookStatus: await look() };
    },

    /**
     * Renders the environment's template for `tag` and registers it, once. The template
     * (and its environment variables) never leaves the worker: only the ARN is returned.
     */
    async registerRevision(input: RegisterRevisionInput): Promise<RegisteredRevision> {
      const { target, tag, deploymentId } = input;
      return withHeartbeat(async (signal) => {
        if (attempt() > 1) {
          const own = await findOwnRevision(target, deploymentId, signal);
          if (own?.taskDefinition) return { ...registered(own.taskDefinition, `describing ${target.family}`), reused: true };
        }
        const template = await send(
          target.region,
          `fetching the template task definition ${target.templateFamily}`,
          new DescribeTaskDefinitionCommand({ taskDefinition: target.templateFamily }),
          signal,
        ).catch((err) => {
          if (err?.name === 'ClientRejected') {
            throw new NotFound(
              `template task definition '${target.templateFamily}' was not found in ${target.region} (app ${target.app}, env ${target.env}): ` +
                `create it, or fix apps.${target.app}.environments.${target.env}.templateFamily in the config`,
            );
          }
          throw err;
        });
        if (!template.taskDefinition) throw new Error(`ECS described the template ${target.templateFamily} without its task definition`);
        const request = renderTaskDefinition(template.taskDefinition, target, tag, [
          { key: DEPLOYMENT_TAG, value: deploymentId },
          { key: IMAGE_TAG_TAG, value: tag },
        ]);
        const out = await send(target.region, `registering ${target.family}`, new RegisterTaskDefinitionCommand(request), signal);
        return { ...registered(out.taskDefinition, `registering ${target.family}`), reused: false };
      });
    },

    /**
     * Points the service at the revision, unless an earlier attempt already did. An earlier
     * attempt's deployment is one of this revision begun since the activity was first
     * scheduled: a deployment of the same revision from before (a rollback re-points to a
     * revision that ran before) is not this one's.
     */
    async updateService(input: UpdateServiceInput): Promise<StartedServiceDeployment> {
      const { target, taskDefinitionArn } = input;
      const svc = `${target.cluster}/${target.service}`;
      const since = Context.current().info.scheduledTimestampMs - CLOCK_SKEW_MS;
      return withHeartbeat(async (signal) => {
        if (attempt() > 1) {
          const existing = await findServiceDeployment(target, taskDefinitionArn, signal, since);
          if (existing) return { ...existing, reused: true };
        }
        const out = await send(
          target.region,
          `updating service ${svc}`,
          new UpdateServiceCommand({ cluster: target.cluster, service: target.service, taskDefinition: taskDefinitionArn }),
          signal,
          `check apps.${target.app}.environments.${target.env}.cluster/service in the config`,
        );
        let arn = out.service?.currentServiceDeployment;
        let startedAt = Date.now();
        const ours = out.service?.deployments?.find((d) => d.taskDefinition === taskDefinitionArn);
        if (ours?.createdAt) startedAt = new Date(ours.createdAt).getTime();
        if (!arn) {
          const found = await findServiceDeployment(target, taskDefinitionArn, signal, since);
          if (!found) throw new Error(`ECS accepted the update of ${svc} but lists no service deployment for ${revisionOf(taskDefinitionArn)} yet`);
          arn = found.serviceDeploymentArn;
          startedAt = found.startedAt;
        }
        return { serviceDeploymentArn: arn, startedAt, reused: false };
      });
    },

    /**
     * Watches the rollout until something changes (new events, counts, status, stopped
     * tasks), it ends, or `maxWaitSeconds` pass. Polls adaptively: fast while things move,
     * slower while they do not. Heartbeats its cursor, so a retry resumes where it was.
     */
    async watchDeployment(input: WatchInput): Promise<WatchReport> {
      const ctx = Context.current();
      const { target, taskDefinitionArn, serviceDeploymentArn } = input;
      const resumed = ctx.info.heartbeatDetails as WatchCursor | undefined;
      let cursor: WatchCursor = resumed ?? input.cursor;
      const deadline = Date.now() + input.maxWaitSeconds * 1000;
      let interval = pollMin;
      const pace = deps.ecsPace?.(target.region);
      for (;;) {
        const report = await observeOnce(target, taskDefinitionArn, serviceDeploymentArn, cursor, input.staged === true, input.earlySuccessPercent, ctx.cancellationSignal);
        const changed =
          report.newEvents.length > 0 ||
          report.newStoppedReasons.length > 0 ||
          report.cursor.status !== cursor.status ||
          report.cursor.countsKey !== cursor.countsKey ||
          report.cursor.stageKey !== cursor.stageKey;
        cursor = report.cursor;
        ctx.heartbeat(cursor);
        const wait = pace ? pace.pollIntervalMs(interval, serviceDeploymentArn) : interval;
        if (report.verdict.state !== 'in_progress' || changed || Date.now() + wait > deadline) return report;
        await ctx.sleep(wait);
        interval = Math.min(pollMax, Math.round(interval * 1.5));
      }
    },

    /**
     * One look at a rollout watched by ECS's events: the deploy looks when an event about its
     * service arrives (to confirm it: events can be late, duplicated or lost) and otherwise
     * every `nextLookMs`. Its reads are batched with the looks of other rollouts.
     */
    async observeDeployment(input: ObserveInput): Promise<ObserveReport> {
      const ctx = Context.current();
      const { target, taskDefinitionArn, serviceDeploymentArn } = input;
      // Run as a local activity, the look confirms an event (an end, a failure), so it reads
      // the service deployment too, at once; its calls wait at the deploy's priority (its
      // header: workflows/priority.ts).
      const report = await observeOnce(
        target,
        taskDefinitionArn,
        serviceDeploymentArn,
        input.cursor,
        false,
        undefined,
        ctx.cancellationSignal,
        input.inProgressHeard,
        ctx.info.isLocal,
      );
      const base = input.reconcileSeconds * 1000;
      // A look costs about one service read, shared by the looks batched with it.
      const callsPerLook = 1 / services.meanBatchSize;
      const nextLookMs = deps.ecsPace?.(target.region).reconcileIntervalMs(base, serviceDeploymentArn, callsPerLook) ?? base;
      return { ...report, nextLookMs };
    },
  };

  /** A registered revision as Slipway records it; ECS's answer must name it. */
  function registered(td: TaskDefinition | undefined, what: string): Omit<RegisteredRevision, 'reused'> {
    if (!td?.taskDefinitionArn || td.revision === undefined) throw new Error(`ECS answered ${what} without the task definition's ARN and revision`);
    return { taskDefinitionArn: td.taskDefinitionArn, revision: td.revision, images: (td.containerDefinitions ?? []).flatMap((c) => (c.image ? [c.image] : [])) };
  }

  /** The newest service deployment of `taskDefinitionArn` created at or after `sinceMs`. */
  async function findServiceDeployment(target: Target, taskDefinitionArn: string, signal: AbortSignal | undefined, sinceMs: number) {
    const list = await send(
      target.region,
      'listing service deployments',
      new ListServiceDeploymentsCommand({ cluster: target.cluster, service: target.service, maxResults: 10 }),
      signal,
    );
    const briefs = list.serviceDeployments ?? [];
    const revisionArns = briefs.map((b) => b.targetServiceRevisionArn).filter((a): a is string => !!a);
    if (revisionArns.length === 0) return undefined;
    const revs = await send(target.region, 'describing service revisions', new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArns.slice(0, 20) }), signal);
    const ours = new Set((revs.serviceRevisions ?? []).filter((r) => r.taskDefinition === taskDefinitionArn).map((r) => r.serviceRevisionArn));
    const created = (b: (typeof briefs)[number]) => (b.createdAt ? new Date(b.createdAt).getTime() : 0);
    const brief = briefs.filter((b) => b.serviceDeploymentArn && ours.has(b.targetServiceRevisionArn) && created(b) >= sinceMs).sort((a, b) => created(b) - created(a))[0];
    if (!brief?.serviceDeploymentArn) return undefined;
    return { serviceDeploymentArn: brief.serviceDeploymentArn, startedAt: created(brief) };
  }

  /**
   * One look at the rollout. DescribeServices every time (events, counts, which revision
   * is PRIMARY); DescribeServiceDeployments — the verdict — only when the service shows
   * something that can change it: the first look, our rollout no longer in progress,
   * another revision PRIMARY (a rollback), new failed tasks, or our deployment gone.
   * One call per look while a rollout simply proceeds. A look that confirms an event
   * (`confirming`) sends both reads at once, without waiting for other looks to join them:
   * an event that wakes a look is one that can change the verdict.
   */
  async function observeOnce(
    target: Target,
    ourTd: string,
    sdArn: string,
    cursor: WatchCursor,
    staged: boolean,
    earlySuccessPercent: number | undefined,
    signal?: AbortSignal,
    inProgressHeard: readonly string[] = [],
    confirming = false,
  ): Promise<WatchReport> {
    const sdRead = confirming ? serviceDeployments.get(target.region, sdArn, true) : undefined;
    // Its failure is answered below, where it is awaited; if the service read fails first, it does not matter.
    sdRead?.catch(() => undefined);
    const service = await services.get(JSON.stringify([target.region, target.cluster]), target.service, confirming);
    if (!service) throw new NotFound(`service ${target.cluster}/${target.service} no longer exists`);
    const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
    const ours = service.deployments?.find((d) => d.taskDefinition === ourTd);

    // Staged deployments (stage, traffic) and early success (ECS may succeed mid-rollout) show only there.
    // An IN_PROGRESS event about this very deployment tells its status as well as a read would.
    const statusHeard = cursor.status === undefined && ours?.id !== undefined && inProgressHeard.includes(ours.id) ? 'IN_PROGRESS' : undefined;
    const verdictMayChange =
      staged ||
      earlySuccessPercent !== undefined ||
      (cursor.status === undefined && statusHeard === undefined) ||
      !ours ||
      primary?.taskDefinition !== ourTd ||
      primary?.rolloutState !== 'IN_PROGRESS' ||
      (ours.failedTasks ?? 0) > cursor.failedSeen;
    let sd: ServiceDeployment | undefined;
    if (verdictMayChange || sdRead) {
      sd = await (sdRead ?? serviceDeployments.get(target.region, sdArn));
      if (!sd) throw new NotFound(`ECS no longer knows the service deployment ${sdArn}`);
    }

    const obs: Observation = {
      serviceDeploymentStatus: sd ? (sd.status ?? 'PENDING') : (cursor.status ?? statusHeard!),
      serviceDeploymentStatusReason: sd?.statusReason,
      ...(earlySuccessPercent !== undefined && { earlySuccessPercent }),
      rollbackReason: sd?.rollback?.reason,
      primary: primary && {
        taskDefinition: primary.taskDefinition ?? '',
        desired: primary.desiredCount ?? 0,
        running: primary.runningCount ?? 0,
        pending: primary.pendingCount ?? 0,
        rolloutState: primary.rolloutState,
      },
      ours: ours && {
        desired: ours.desiredCount ?? 0,
        running: ours.runningCount ?? 0,
        pending: ours.pendingCount ?? 0,
        failed: ours.failedTasks ?? 0,
        rolloutState: ours.rolloutState,
        rolloutStateReason: ours.rolloutStateReason,
      },
      ...(sd?.alarms?.triggeredAlarmNames?.length ? { triggeredAlarmNames: [...sd.alarms.triggeredAlarmNames] } : {}),
      ...(sd?.lifecycleHookDetails?.length
        ? { hooks: sd.lifecycleHookDetails.map((h) => ({ name: hookLabel({ targetType: h.targetType ?? 'AWS_LAMBDA', targetArn: h.targetArn }), status: h.status ?? '' })) }
        : {}),
    };
    const verdict = judge(obs, ourTd);
    if (verdict.state !== 'in_progress') recordDetection(target, verdict.state, sd);
    // While and after ECS rolls back, the counts that matter are those of what runs.
    const rolledBackTo = primary && primary.taskDefinition !== ourTd ? primary : undefined;
    const counts = rolledBackTo
      ? { ...countsOf(rolledBackTo, undefined, 0), failed: Math.max(cursor.failedSeen, ours?.failedTasks ?? 0), revision: revisionOf(rolledBackTo.taskDefinition ?? '') }
      : countsOf(ours, sd, cursor.failedSeen);
    const stage = sd?.lifecycleStage;
    const rev = sd?.targetServiceRevision;
    const traffic =
      rev?.requestedProductionTrafficWeight !== undefined || rev?.requestedTestTrafficWeight !== undefined
        ? { production: rev.requestedProductionTrafficWeight ?? 0, test: rev.requestedTestTrafficWeight ?? 0 }
        : undefined;
    const hooks = (sd?.lifecycleHookDetails ?? []).map((h) => ({
      hookId: h.hookId ?? '',
      name: hookLabel({ targetType: h.targetType ?? 'AWS_LAMBDA', targetArn: h.targetArn }),
      status: h.status ?? '',
    }));

    // Only events since our service deployment was created (both times are ECS's clock) and
    // not yet reported; oldest first.
    const seen = new Set(cursor.seenEventIds);
    const fresh = (service.events ?? []).filter((e) => e.id && !seen.has(e.id) && (e.createdAt ? new Date(e.createdAt).getTime() >= cursor.since : true)).reverse();
    const newEvents = fresh.map((e) => e.message ?? '');

    // Stopped tasks of our revision: looked up only when ECS counts new failures, or at the end.
    let newStoppedReasons: string[] = [];
    let seenStopped = cursor.seenStoppedTasks;
    const needStopped = counts.failed > cursor.failedSeen || (verdict.state !== 'in_progress' && verdict.state !== 'succeeded');
    if (needStopped) {
      const stopped = await stoppedTasks(target, ourTd, signal);
      const already = new Set(seenStopped);
      const novel = stopped.filter((t) => t.taskArn && !already.has(t.taskArn));
      newStoppedReasons = novel.map(describeStop);
      seenStopped = [...seenStopped, ...novel.map((t) => t.taskArn!)].slice(-100);
    }

    return {
      verdict,
      status: obs.serviceDeploymentStatus,
      ...(sd?.statusReason && { statusReason: sd.statusReason }),
      counts,
      newEvents,
      newStoppedReasons,
      ...(stage ? { lifecycleStage: stage } : {}),
      ...(traffic ? { traffic } : {}),
      ...(hooks.length ? { hooks } : {}),
      ...(obs.triggeredAlarmNames ? { triggeredAlarmNames: obs.triggeredAlarmNames } : {}),
      cursor: {
        since: cursor.since,
        seenEventIds: [...cursor.seenEventIds, ...fresh.map((e) => e.id!)].slice(-200),
        seenStoppedTasks: seenStopped,
        failedSeen: Math.max(cursor.failedSeen, counts.failed),
        status: obs.serviceDeploymentStatus,
        countsKey: `${counts.desired}/${counts.running}/${counts.pending}/${counts.failed}`,
        stageKey: sd ? JSON.stringify([stage, traffic, hooks.map((h) => h.status)]) : cursor.stageKey,
      },
    };
  }

  async function stoppedTasks(target: Target, ourTd: string, signal?: AbortSignal): Promise<Task[]> {
    const list = await send(
      target.region,
      'listing stopped tasks',
      new ListTasksCommand({ cluster: target.cluster, serviceName: target.service, desiredStatus: 'STOPPED' }),
      signal,
    );
    const arns = (list.taskArns ?? []).slice(0, 100);
    if (arns.length === 0) return [];
    const out = await send(target.region, 'describing stopped tasks', new DescribeTasksCommand({ cluster: target.cluster, tasks: arns }), signal);
    // Tasks the scheduler stopped (scaling in, draining for a rollback) are no failure reasons.
    return (out.tasks ?? []).filter((t) => t.taskDefinitionArn === ourTd && !/^Scaling activity initiated by/.test(t.stoppedReason ?? ''));
  }
}

/** Detection latency: how long after ECS ended the service deployment (its clock) the watch saw the end. */
function recordDetection(target: Target, outcome: string, sd: ServiceDeployment | undefined): void {
  const endedAt = sd?.finishedAt ?? sd?.stoppedAt;
  if (!endedAt) return;
  const seconds = Math.max(0, (Date.now() - new Date(endedAt).getTime()) / 1000);
  Context.current()
    .metricMeter.createHistogram(METRICS.detectionLatency, 'float', 's', 'From ECS ending a service deployment to Slipway seeing it')
    .record(seconds, { app: target.app, env: target.env, outcome });
}

function countsOf(ours: Deployment | undefined, sd: ServiceDeployment | undefined, failedSeen: number): TaskCounts {
  const rev = sd?.targetServiceRevision;
  return {
    desired: ours?.desiredCount ?? rev?.requestedTaskCount ?? 0,
    running: ours?.runningCount ?? rev?.runningTaskCount ?? 0,
    pending: ours?.pendingCount ?? rev?.pendingTaskCount ?? 0,
    failed: Math.max(failedSeen, ours?.failedTasks ?? 0),
  };
}

/** "task 1a2b…: Task failed container health checks (django: exit 1, Essential container in task exited)". */
function describeStop(t: Task): string {
  const id = (t.taskArn ?? '').split('/').pop() ?? '';
  const containers = (t.containers ?? [])
    .filter((c) => c.reason || (c.exitCode !== undefined && c.exitCode !== 0))
    .map((c) => `${c.name}: ${[c.exitCode !== undefined ? `exit ${c.exitCode}` : '', c.reason ?? ''].filter(Boolean).join(', ')}`);
  const why = t.stoppedReason ?? t.stopCode ?? 'stopped';
  return `task ${id.slice(0, 12)}: ${why}${containers.length ? ` (${containers.join('; ')})` : ''}`;
}

export type EcsActivities = ReturnType<typeof createEcsActivities>;
