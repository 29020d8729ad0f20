/**
 * Deploys, rollbacks and a redeploy under faults in every outside system at once: the ECS
 * sandbox throttles 30% of calls and fails 10% with 5xx on top of added latency, the GitHub
 * sandbox answers rate limits and 502s, the registry (behind a proxy) answers 5xx, and the
 * version endpoints sometimes answer slower than the worker waits. Everything still ends
 * in its true outcome, and nothing is done twice: one applied registration and one applied
 * UpdateService per deploy (faulted calls are not applied by the sandbox).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DEPLOYMENT_TAG } from '../activities/ecs';
import { deployOutcome, startDeploy, startRedeploy, startRollback, type DeployOutcome } from '../client/operations';
import type { SiteRequest } from '../sandbox/site';
import { FailureType, type DeployResult, type RedeployResult, type RollbackResult } from '../contract';
import { forward } from '../sandbox/proxy';
import { seededRandom } from '../sandbox/random';
import { eventually, freshTaskQueue, INITIAL_TAG, startStack, startWorker, type RunningWorker, type Stack } from './harness';

const SEED = Number(process.env.FAULTS_SEED ?? 7);

const A = 'a1'.repeat(20);
const B = 'b2'.repeat(20);
const C = 'c3'.repeat(20);
const BAD = 'dead'.repeat(10);

interface FlakyRegistry {
  /** `127.0.0.1:<port>`: the registry host to put in image references. */
  host: string;
  requests: number;
  failed: number;
  /** Share of requests answered 5xx from now on. */
  failRate: number;
  close(): Promise<void>;
}

/**
 * A proxy in front of the real registry that answers a seeded share of requests with a
 * 500 or 503 (an OCI error body) instead of passing them on.
 */
async function startFlakyRegistry(upstream: () => string, seed: number): Promise<FlakyRegistry> {
  const rand = seededRandom(seed);
  const server = http.createServer((req, res) => {
    proxy.requests++;
    if (rand() < proxy.failRate) {
      proxy.failed++;
      req.resume();
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] });
      res.writeHead(rand() < 0.5 ? 500 : 503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    forward(req, res, upstream());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const proxy: FlakyRegistry = {
    host: `127.0.0.1:${port}`,
    requests: 0,
    failed: 0,
    failRate: 0,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return proxy;
}

interface LossyWire {
  url: string;
  /** Operations whose answer was cut off after ECS applied them. */
  cut: string[];
  close(): Promise<void>;
}

/**
 * A proxy in front of the ECS sandbox that passes each call on and, for the first
 * successful call of each of `ops`, drops the connection instead of relaying the answer:
 * ECS applied the call, the caller never hears so.
 */
async function startLossyWire(upstream: () => string, ops: string[]): Promise<LossyWire> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = new URL(upstream());
      const op =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        if (answer.statusCode === 200 && ops.includes(op) && !wire.cut.includes(op)) {
          wire.cut.push(op);
          answer.resume();
          req.socket.destroy();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => req.socket.destroy());
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const wire: LossyWire = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: [],
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return wire;
}

describe('faults everywhere', () => {
  let stack: Stack;
  let registry: FlakyRegistry;
  let worker: RunningWorker;
  let taskQueue: string;
  /** Revisions of every deploy that registered one (deploys and the child deploys of rollbacks). */
  const deployed: { arn: string; what: string }[] = [];
  /** Rollbacks that re-pointed the service at a validated revision (no registration). */
  const repointed: { arn: string; what: string }[] = [];

  before(async () => {
    registry = await startFlakyRegistry(() => stack.world.registry.url, SEED);
    stack = await startStack({
      timing: { taskStartMs: 150, healthyMs: 150, drainMs: 80 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 1 };
        // Images are read through the flaky proxy.
        for (const app of Object.values<any>(raw.apps)) {
          for (const [key, repo] of Object.entries<string>(app.images)) app.images[key] = repo.replace(/^[^/]+\//, `${registry.host}/`);
        }
        raw.registries = { [registry.host]: { insecure: true } };
      },
    });
    await stack.world.pushTags(A, B, C, BAD);
    stack.ecs.failImage(`openverse-frontend:${BAD}`, { reason: 'CannotStartContainerError: nuxt exited' });
    taskQueue = freshTaskQueue('faults');
    worker = await startWorker(stack, taskQueue);
    stack.ecs.resetCalls();
    stack.world.github.resetRequests();
    stack.ecs.setFaults({ throttleRate: 0.3, errorRate: 0.1, latencyMs: 20, seed: SEED });
    stack.world.github.setFaults({ rateLimitEvery: 3, secondaryRateLimitRate: 0.15, errorRate: 0.15, seed: SEED });
    registry.failRate = 0.25;
  });
  after(async () => {
    stack?.ecs.setFaults({});
    stack?.world.github.setFaults({});
    await worker?.stop();
    await stack?.close();
    await registry?.close();
  });

  /** The revision `arn` was registered once (by `deploymentId` when given) and applied by one UpdateService. */
  function assertOnce(arn: string, what: string, deploymentId?: string): void {
    const td = stack.ecs.taskDefinitions().find((t) => t.arn === arn);
    assert.ok(td, `${what}: no task definition ${arn}`);
    const id = td.tags.find((t) => t.key === DEPLOYMENT_TAG)?.value;
    assert.ok(id, `${what}: ${arn} carries no deployment identity`);
    if (deploymentId) assert.equal(id, deploymentId, `${what}: ${arn} was registered by another deploy`);
    const registrations = stack.ecs
      .mutations('RegisterTaskDefinition')
      .filter((c) => ((c.input.tags as { key: string; value: string }[] | undefined) ?? []).some((t) => t.key === DEPLOYMENT_TAG && t.value === id));
    assert.equal(registrations.length, 1, `${what}: ${registrations.length} applied registrations`);
    const updates = stack.ecs.mutations('UpdateService').filter((c) => c.input.taskDefinition === arn);
    assert.equal(updates.length, 1, `${what}: ${updates.length} applied UpdateService calls`);
    deployed.push({ arn, what });
  }

  /** A rollback to the exact revision that was validated: no registration of its own, one more UpdateService to it. */
  function assertRepointed(arn: string, what: string): void {
    const td = stack.ecs.taskDefinitions().find((t) => t.arn === arn);
    assert.ok(td, `${what}: no task definition ${arn}`);
    const id = td.tags.find((t) => t.key === DEPLOYMENT_TAG)?.value;
    const registrations = stack.ecs
      .mutations('RegisterTaskDefinition')
      .filter((c) => ((c.input.tags as { key: string; value: string }[] | undefined) ?? []).some((t) => t.key === DEPLOYMENT_TAG && t.value === id));
    assert.equal(registrations.length, 1, `${what}: ${arn} was registered once, by the deploy that validated it`);
    assert.ok(
      deployed.some((d) => d.arn === arn),
      `${what}: ${arn} is a revision an earlier deploy registered`,
    );
    const updates = stack.ecs.mutations('UpdateService').filter((c) => c.input.taskDefinition === arn);
    assert.equal(updates.length, 2, `${what}: ${updates.length} applied UpdateService calls (its deploy's and the rollback's)`);
    repointed.push({ arn, what });
  }

  async function deploy(app: string, env: string, tag: string, actor: string) {
    const handle = await startDeploy(stack.client, { app, env, tag, actor, reason: 'faults' }, { taskQueue });
    return { handle, what: `deploy ${app} ${env} ${tag.slice(0, 7)}`, outcome: await deployOutcome(handle) };
  }

  function succeeded<R extends DeployResult>(outcome: DeployOutcome<R>, tag: string, what: string): R {
    assert.equal(outcome.ok, true, `${what}: ${JSON.stringify(outcome)}`);
    if (!outcome.ok) throw new Error('unreachable');
    assert.equal(outcome.result.tag, tag, what);
    assert.equal(outcome.result.verified?.release, tag, `${what}: verified on the version endpoint`);
    return outcome.result;
  }

  it('deploys on all four services at once, a failing image among them, then two more, under ECS, GitHub and registry faults', async () => {
    const rounds = [
      () => [
        deploy('api', 'staging', A, 'alice'),
        deploy('api', 'production', A, 'bob'),
        deploy('frontend', 'staging', BAD, 'openverse-bot'),
        deploy('frontend', 'production', A, 'octocat'),
      ],
      () => [deploy('api', 'production', B, 'alice'), deploy('frontend', 'staging', B, 'bob')],
    ];
    for (const round of rounds) {
      const runs = await Promise.all(round());
      for (const r of runs) {
        const deploymentId = `${r.handle.workflowId}/${r.handle.firstExecutionRunId}`;
        if (r.what.includes(BAD.slice(0, 7))) {
          assert.equal(r.outcome.ok, false, `${r.what}: ${JSON.stringify(r.outcome)}`);
          if (r.outcome.ok) continue;
          assert.equal(r.outcome.type, FailureType.rolledBack, `${r.what}: ${r.outcome.message}`);
          assert.match(r.outcome.message, /rolled back by ECS.*nuxt exited/s);
          assertOnce(r.outcome.details!.taskDefinitionArn!, r.what, deploymentId);
        } else {
          assertOnce(succeeded(r.outcome, r.what.includes(A.slice(0, 7)) ? A : B, r.what).taskDefinitionArn, r.what, deploymentId);
        }
      }
    }
    const releases = Object.fromEntries(['api-staging', 'api-production', 'frontend-staging', 'frontend-production'].map((p) => [p, stack.world.site.release(p)]));
    assert.deepEqual(releases, { 'api-staging': A, 'api-production': B, 'frontend-staging': B, 'frontend-production': A });

    // The faults did happen, and were sat out.
    const faulted = stack.ecs.calls.filter((c) => c.fault);
    assert.ok(faulted.some((c) => c.fault === 'throttle') && faulted.some((c) => c.fault === 'error'), 'ECS throttled and failed calls');
    const ghFaults = stack.world.github.requests.filter((r) => [403, 429, 502].includes(r.status));
    assert.ok(ghFaults.length > 0, `GitHub answered rate limits or 502s: ${JSON.stringify(stack.world.github.requests.map((r) => r.status))}`);
    assert.deepEqual(stack.world.github.contractViolations, []);
    assert.ok(registry.failed > 0, `the registry proxy failed ${registry.failed} of ${registry.requests} requests`);
  });

  /** Makes `prefix`'s version endpoint slower than the worker waits until one request has timed out. */
  async function slowVersionEndpointOnce(prefix: string, since: number): Promise<SiteRequest> {
    stack.world.site.override(prefix, { delayMs: 1_500 });
    try {
      return await eventually(
        `a request to ${prefix} to outlast the worker's version timeout`,
        () => stack.world.site.requests.find((r) => r.prefix === prefix && r.at >= since && Date.now() - r.at > 1_200),
        60_000,
        50,
      );
    } finally {
      stack.world.site.clearOverrides(prefix);
    }
  }

  it('a deploy whose version endpoint times out at first is verified once it answers', async () => {
    const since = Date.now();
    const run = deploy('api', 'staging', C, 'alice');
    const slow = await slowVersionEndpointOnce('api-staging', since);
    const r = await run;
    assert.equal(slow.status, undefined, 'the worker gave up on the slow answer');
    assertOnce(succeeded(r.outcome, C, r.what).taskDefinitionArn, r.what, `${r.handle.workflowId}/${r.handle.firstExecutionRunId}`);
    assert.equal(stack.world.site.release('api-staging'), C);
  });

  it('rollbacks (to the last validated release, and to a tag) and a redeploy, under the same faults', async () => {
    // api production runs B; its last validated release before B is A. Reading what runs
    // now times out at first. frontend production goes back to the tag it started on.
    const since = Date.now();
    const toLast = startRollback(stack.client, { app: 'api', env: 'production', actor: 'octocat', reason: 'faults' }, { taskQueue }).then((h) => deployOutcome<RollbackResult>(h));
    const toTag = startRollback(stack.client, { app: 'frontend', env: 'production', tag: INITIAL_TAG, actor: 'openverse-bot' }, { taskQueue }).then((h) =>
      deployOutcome<RollbackResult>(h),
    );
    const again = startRedeploy(stack.client, { app: 'frontend', env: 'staging', actor: 'alice' }, { taskQueue }).then((h) => deployOutcome<RedeployResult>(h));
    const slow = await slowVersionEndpointOnce('api-production', since);

    const last = succeeded(await toLast, A, 'rollback api production');
    assert.equal(last.chosen, 'last-validated');
    assertRepointed(last.taskDefinitionArn, 'rollback api production');
    const tagged = succeeded(await toTag, INITIAL_TAG, 'rollback frontend production');
    assert.equal(tagged.chosen, 'explicit');
    assertOnce(tagged.taskDefinitionArn, 'rollback frontend production');
    const redeployed = succeeded(await again, B, 'redeploy frontend staging');
    assertOnce(redeployed.taskDefinitionArn, 'redeploy frontend staging');

    assert.equal(slow.status, undefined, 'the worker gave up on the slow answer');
    assert.equal(stack.world.site.release('api-production'), A);
    assert.equal(stack.world.site.release('frontend-production'), INITIAL_TAG);
    assert.equal(stack.world.site.release('frontend-staging'), B);
  });

  it('in all, as many applied registrations and UpdateService calls as deploys', () => {
    const mutating = stack.ecs.calls.filter((c) => c.mutating);
    assert.ok(
      mutating.some((c) => c.fault),
      `some registrations or UpdateService calls were faulted (and retried): none of ${mutating.length} (${stack.ecs.calls.filter((c) => c.fault).length} of all ${stack.ecs.calls.length} calls were)`,
    );
    assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, deployed.length, deployed.map((d) => d.what).join('\n'));
    assert.equal(stack.ecs.mutations('UpdateService').length, deployed.length + repointed.length);
    assert.equal(new Set(deployed.map((d) => d.arn)).size, deployed.length, 'every deploy its own revision');
    assert.deepEqual(stack.world.github.mutations(), []);
  });

  it('answers lost on the wire after ECS applied them: still one registration and one UpdateService', async () => {
    const wire = await startLossyWire(() => stack.ecs.url, ['RegisterTaskDefinition', 'UpdateService']);
    stack.setConfig((raw) => (raw.aws.endpoint = wire.url));
    try {
      const r = await deploy('frontend', 'staging', C, 'alice');
      assert.deepEqual(wire.cut.sort(), ['RegisterTaskDefinition', 'UpdateService']);
      assertOnce(succeeded(r.outcome, C, r.what).taskDefinitionArn, r.what, `${r.handle.workflowId}/${r.handle.firstExecutionRunId}`);
    } finally {
      stack.resetConfig();
      await wire.close();
    }
  });
});
