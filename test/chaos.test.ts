/**
 * Proof under stress: deploys keep their promises while the machinery under them dies.
 *
 * - Crashes: dozens of deploys on all four services at once (one at a time per service)
 *   while the worker, a separate process, is SIGKILLed at seeded random moments — some of
 *   them exactly while the ECS sandbox holds the answer of an applied RegisterTaskDefinition
 *   or UpdateService — and restarted. Every deploy reaches its true outcome, and the
 *   sandbox's call log shows one applied registration and one applied UpdateService each.
 * - Temporal server restarts: the dev server, persisted in SQLite, is stopped and started
 *   again on the same port and file while a deploy waits on ECS; the deploy carries on.
 *
 * CHAOS_SEED=<n> repeats a run's plan (tags, order, kill moments).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { deployOutcome, startDeploy, type DeployOutcome } from '../client/operations';
import type { EcsCall } from '../sandbox/ecs';
import { freePort, startDevServer, type DevServer } from '../sandbox/temporal';
import { DEPLOYMENT_TAG } from '../activities/ecs';
import { reportMerge } from '../client/operations';
import { approveUpdate, deployWorkflowId, FailureType, pipelineStateQuery, pipelineWorkflowId, progressQuery, type PipelineState } from '../contract';
import { seededRandom } from '../sandbox/random';
import { eventually, freshTaskQueue, NEW_TAG, spawnWorkerProcess, startStack, startWorker, type RunningWorker, type Stack } from './harness';

const SEED = Number(process.env.CHAOS_SEED ?? 20_241_128);

/** A 40-character hex tag (a commit SHA) drawn from `rand`. */
function shaFrom(rand: () => number): string {
  return Array.from({ length: 40 }, () => Math.floor(rand() * 16).toString(16)).join('');
}

/** The four services; production ones need an authorised actor. */
const LANES = [
  { app: 'api', env: 'staging', cluster: 'staging-default', service: 'staging-api' },
  { app: 'api', env: 'production', cluster: 'production-default', service: 'production-api' },
  { app: 'frontend', env: 'staging', cluster: 'staging-default', service: 'staging-nuxt' },
  { app: 'frontend', env: 'production', cluster: 'production-default', service: 'production-nuxt' },
] as const;
type Lane = (typeof LANES)[number];

const ACTORS = ['alice', 'bob', 'octocat', 'openverse-bot'];

interface PlannedDeploy {
  lane: Lane;
  tag: string;
  actor: string;
  /** The image fails its health check: ECS's circuit breaker rolls it back. */
  failing: boolean;
}

interface Ran extends PlannedDeploy {
  workflowId: string;
  runId: string;
  outcome: DeployOutcome;
}

/** Applied registrations tagged with the deployment identity `<workflowId>/<runId>`. */
function registrationsOf(calls: EcsCall[], deploymentId: string): EcsCall[] {
  return calls.filter(
    (c) =>
      c.op === 'RegisterTaskDefinition' && ((c.input.tags as { key: string; value: string }[] | undefined) ?? []).some((t) => t.key === DEPLOYMENT_TAG && t.value === deploymentId),
  );
}

describe('chaos: the worker is SIGKILLed again and again', () => {
  const PER_LANE = 8;
  /** Each kill stalls in-flight work for a heartbeat timeout or so: enough kills to cover every kind, no more. */
  const MAX_KILLS = 4;
  const rand = seededRandom(SEED);
  const good = Array.from({ length: 6 }, () => shaFrom(rand));
  const bad = Array.from({ length: 2 }, () => shaFrom(rand));
  // Each lane: PER_LANE deploys of random good tags, one of them (two lanes) a failing image.
  const plan: PlannedDeploy[][] = LANES.map((lane, i) => {
    const failingAt = i % 2 === 0 ? 1 + Math.floor(rand() * (PER_LANE - 1)) : -1;
    return Array.from({ length: PER_LANE }, (_, n) => {
      const failing = n === failingAt;
      return {
        lane,
        tag: failing ? bad[i / 2] : good[Math.floor(rand() * good.length)],
        actor: ACTORS[Math.floor(rand() * ACTORS.length)],
        failing,
      };
    });
  });

  let stack: Stack;
  let taskQueue: string;
  let worker: ChildProcess | undefined;

  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 120, healthyMs: 120, drainMs: 60 },
      configure: (raw) => (raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 1 }),
    });
    await stack.world.pushTags(...good, ...bad);
    for (const tag of bad) stack.ecs.failImage(`:${tag}`, { reason: `CannotStartContainerError: ${tag.slice(0, 7)} exits at once` });
    taskQueue = freshTaskQueue('chaos');
  });
  after(async () => {
    await killWorker();
    await stack?.close();
  });

  async function killWorker(): Promise<void> {
    const child = worker;
    worker = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }

  it(`${LANES.length * PER_LANE} deploys reach their true outcome, each registered and applied exactly once (seed ${SEED})`, async (t: TestContext) => {
    stack.ecs.resetCalls();
    worker = await spawnWorkerProcess(stack, taskQueue);
    const ran: Ran[] = [];
    let finished = 0;
    let lanesDone = 0;

    const runLane = async (deploys: PlannedDeploy[]) => {
      for (const d of deploys) {
        const handle = await startDeploy(stack.client, { app: d.lane.app, env: d.lane.env, tag: d.tag, actor: d.actor, reason: 'chaos' }, { taskQueue });
        const outcome = await deployOutcome(handle);
        ran.push({ ...d, workflowId: handle.workflowId, runId: handle.firstExecutionRunId, outcome });
        finished++;
      }
      lanesDone++;
    };

    // Kills at seeded random moments; every other one waits for an applied call whose answer
    // is held (a registration, then an UpdateService, and so on).
    const kills: string[] = [];
    const killer = async () => {
      const holdOps = ['RegisterTaskDefinition', undefined, 'UpdateService', undefined];
      for (let k = 0; k < MAX_KILLS && lanesDone < LANES.length; k++) {
        // Progress between kills: at least one deploy finishes with the restarted worker.
        const seen = finished;
        await eventually('a deploy to finish since the last restart', () => finished > seen || lanesDone === LANES.length, 120_000, 100);
        if (lanesDone === LANES.length) break;
        const delay = 300 + Math.floor(rand() * 2500);
        const op = holdOps[k % holdOps.length];
        await new Promise((r) => setTimeout(r, delay));
        if (lanesDone === LANES.length) break;
        if (op) {
          const applied = stack.ecs.mutations(op).length;
          stack.ecs.holdResponse(op, 120_000);
          try {
            const reached = await eventually(`an applied ${op}`, () => stack.ecs.mutations(op).length > applied || lanesDone === LANES.length, 60_000, 20);
            if (reached && stack.ecs.mutations(op).length > applied) {
              await killWorker();
              kills.push(`while holding the answer of ${op}`);
            }
          } finally {
            stack.ecs.holdResponse(op, 0);
          }
        } else {
          await killWorker();
          kills.push(`after ${delay} ms`);
        }
        if (!worker) worker = await spawnWorkerProcess(stack, taskQueue);
      }
    };

    const started = Date.now();
    await Promise.all([...plan.map(runLane), killer()]);
    t.diagnostic(`seed ${SEED}: ${ran.length} deploys, ${kills.length} kills (${kills.join('; ')}) in ${Math.round((Date.now() - started) / 1000)} s`);

    assert.equal(ran.length, LANES.length * PER_LANE);
    assert.ok(kills.length >= 4, `the worker was killed only ${kills.length} times`);
    assert.ok(
      kills.some((k) => k.includes('RegisterTaskDefinition')),
      'a kill while a registration answer was held',
    );
    assert.ok(
      kills.some((k) => k.includes('UpdateService')),
      'a kill while an UpdateService answer was held',
    );

    const registrations = stack.ecs.mutations('RegisterTaskDefinition');
    const updates = stack.ecs.mutations('UpdateService');
    for (const r of ran) {
      const what = `${r.workflowId} ${r.tag.slice(0, 7)} (${r.failing ? 'failing image' : 'good image'}, run ${r.runId})`;
      let arn: string | undefined;
      if (r.failing) {
        assert.equal(r.outcome.ok, false, `${what}: ${JSON.stringify(r.outcome)}`);
        if (r.outcome.ok) continue;
        assert.equal(r.outcome.type, FailureType.rolledBack, `${what}: ${r.outcome.message}`);
        assert.match(r.outcome.message, /rolled back by ECS/);
        arn = r.outcome.details?.taskDefinitionArn;
      } else {
        assert.equal(r.outcome.ok, true, `${what}: ${JSON.stringify(r.outcome)}`);
        if (!r.outcome.ok) continue;
        assert.equal(r.outcome.result.tag, r.tag);
        assert.equal(r.outcome.result.verified?.release, r.tag, `${what}: verified on its version endpoint`);
        arn = r.outcome.result.taskDefinitionArn;
      }
      const ownRegistrations = registrationsOf(registrations, `${r.workflowId}/${r.runId}`);
      assert.equal(ownRegistrations.length, 1, `${what}: ${ownRegistrations.length} applied registrations`);
      assert.ok(arn, `${what}: names its revision`);
      const td = stack.ecs.taskDefinitions(r.lane.service).find((x) => x.arn === arn);
      assert.ok(
        td?.tags.some((x) => x.key === DEPLOYMENT_TAG && x.value === `${r.workflowId}/${r.runId}`),
        `${what}: ${arn} is the revision it registered`,
      );
      assert.ok(
        Object.values(td!.images).every((image) => image.endsWith(`:${r.tag}`)),
        `${what}: ${arn} runs ${JSON.stringify(td!.images)}`,
      );
      const ownUpdates = updates.filter((u) => u.input.taskDefinition === arn);
      assert.equal(ownUpdates.length, 1, `${what}: ${ownUpdates.length} applied UpdateService calls`);
    }
    // Nothing beyond those: as many applied effects as deploys.
    assert.equal(registrations.length, ran.length, 'applied registrations in all');
    assert.equal(updates.length, ran.length, 'applied UpdateService calls in all');

    // Each service ends on its lane's last successful deploy.
    for (const lane of LANES) {
      const last = ran.filter((r) => r.lane === lane && r.outcome.ok).at(-1);
      assert.ok(last?.outcome.ok);
      assert.equal(stack.ecs.service(lane.cluster, lane.service).taskDefinition, last.outcome.result.taskDefinitionArn, `${lane.service} runs the last good deploy`);
      assert.equal(stack.world.site.release(`${lane.app}-${lane.env}`), last.tag);
    }
  });
});

/**
 * The Temporal server goes away and comes back (same port, same SQLite file) while work is
 * in flight. Scenarios share one persisted server, stack and worker; `restartTemporal`
 * stops the server and starts it again.
 */
describe('chaos: the Temporal server restarts', () => {
  let dir: string;
  let dbFile: string;
  let port: number;
  let temporal: DevServer;
  let stack: Stack;
  let worker: RunningWorker;
  let taskQueue: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-chaos-temporal-'));
    dbFile = join(dir, 'temporal.db');
    port = await freePort();
    temporal = await startDevServer({ dbFile, port });
    stack = await startStack({
      temporal,
      timing: { taskStartMs: 150, healthyMs: 150, drainMs: 80 },
      configure: (raw) => (raw.apps.api.pipeline = { policy: 'fifo', approvals: 1 }),
    });
    await stack.world.pushTags(NEW_TAG);
    taskQueue = freshTaskQueue('temporal-restart');
    worker = await startWorker(stack, taskQueue);
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    await temporal?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Stops the server, runs `whileDown`, and starts it again on the same port and database file. */
  async function restartTemporal(whileDown?: () => Promise<void> | void): Promise<void> {
    await temporal.stop();
    await whileDown?.();
    temporal = await startDevServer({ dbFile, port });
  }

  it('a deploy waiting on ECS resumes after a restart: one registration, one update, the right outcome', async () => {
    stack.ecs.resetCalls();
    stack.ecs.setSpeed(0.05);
    try {
      const handle = await startDeploy(stack.client, { app: 'api', env: 'production', tag: NEW_TAG, actor: 'alice', reason: 'server restart' }, { taskQueue });
      await eventually('the deploy to wait on ECS', async () => (await handle.query(progressQuery).catch(() => undefined))?.phase === 'waiting', 60_000, 100);
      await restartTemporal(() => {
        // While the server is down, ECS moves on at full speed.
        assert.equal(stack.ecs.mutations('UpdateService').length, 1);
        stack.ecs.setSpeed(1);
      });
      const outcome = await deployOutcome(stack.client.workflow.getHandle(deployWorkflowId('api', 'production'), handle.firstExecutionRunId));
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      if (!outcome.ok) return;
      assert.equal(outcome.result.verified?.release, NEW_TAG);
      assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 1, 'one registration');
      assert.equal(stack.ecs.mutations('UpdateService').length, 1, 'one UpdateService');
      assert.equal(stack.ecs.service('production-default', 'production-api').taskDefinition, outcome.result.taskDefinitionArn);
      assert.equal(stack.world.site.release('api-production'), NEW_TAG);
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'COMPLETED');
    } finally {
      stack.ecs.setSpeed(1);
    }
  });

  it('a pipeline waiting for approval survives a restart: the queue, the candidate and the approval record are intact', async () => {
    const gh = stack.world.github;
    const m1 = gh.addCommit('WordPress', 'openverse', { message: 'restart 1' });
    const m2 = gh.addCommit('WordPress', 'openverse', { message: 'restart 2' });
    await stack.world.pushTags(m1, m2);
    await reportMerge(stack.client, 'api', { sha: m1, actor: 'dhruv', title: 'restart 1' }, { taskQueue });
    await reportMerge(stack.client, 'api', { sha: m2, actor: 'zack', title: 'restart 2' }, { taskQueue });
    const handle = stack.client.workflow.getHandle(pipelineWorkflowId('api'));
    const state = (what: string, pred: (s: PipelineState) => boolean) =>
      eventually(
        what,
        async () => {
          const s = await handle.query(pipelineStateQuery).catch(() => undefined);
          return s && pred(s) ? s : undefined;
        },
        90_000,
        100,
      );
    const before = await state('m1 awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === m1);

    await restartTemporal();

    const after = await state('the pipeline answering again', () => true);
    assert.deepEqual(after.queue, before.queue, 'the queue is intact');
    assert.equal(after.candidate?.sha, m1);
    assert.equal(after.phase, 'awaiting_approval');
    await handle.executeUpdate(approveUpdate, { args: [{ tag: m1, approver: 'alice' }] });
    const done = await state('m1 released, m2 next (fifo)', (s) => s.lastValidated === m1 && s.candidate?.sha === m2);
    assert.ok(done.approvals.some((a) => a.approver === 'alice' && a.tag === m1 && !a.refused));
    assert.equal(stack.world.site.release('api-production'), m1);
  });
});
