/**
 * The worker as operators run it: a separate process (worker/main.ts) that logs JSON lines,
 * serves Prometheus metrics (the Temporal runtime's and Slipway's own), and refuses to start
 * when the config asks for authorisation it cannot check or Temporal cannot be reached.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deployOutcome, reportMerge, startDeploy } from '../client/operations';
import { freePort } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { pipelineStateQuery, pipelineWorkflowId } from '../contract';
import { eventually, freshTaskQueue, NEW_TAG, startStack, type Stack } from './harness';

const BAD_TAG = 'b'.repeat(40);

/** The samples of a metric in Prometheus' text format whose labels include `labels`. */
function samples(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) out.push(Number(m[3]));
  }
  return out;
}
const total = (text: string, name: string, labels: Record<string, string> = {}) => samples(text, name, labels).reduce((a, b) => a + b, 0);

describe('worker process', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 150, healthyMs: 150, drainMs: 100 },
      configure: (raw) => {
        raw.apps.api.pipeline = { policy: 'fifo', approvals: 1, allowSelfApproval: false, approvalDeadlineHours: 72 };
        raw.notifications = { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', users: {} }, githubDeployments: false };
      },
    });
    await stack.world.pushTags(NEW_TAG, BAD_TAG);
  });
  after(async () => {
    await stack?.close();
  });

  function worker(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'worker', 'main.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, SLIPWAY_CONFIG: stack.configPath, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '', code: undefined as number | null | undefined };
    child.stdout.on('data', (d) => (out.stdout += d));
    child.stderr.on('data', (d) => (out.stderr += d));
    child.on('exit', (code) => (out.code = code));
    return { child, out };
  }

  it('serves Prometheus metrics, logs JSON lines, and runs deploys', async () => {
    const port = await freePort();
    const tq = freshTaskQueue('worker-process');
    const { child, out } = worker({ ...stack.world.workerEnv, SLIPWAY_TASK_QUEUE: tq, SLIPWAY_METRICS_BIND: `127.0.0.1:${port}`, SLIPWAY_GATE_TASK_QUEUE: `${tq}-gates` });
    try {
      await eventually('the worker to log that it started', () => out.stdout.includes('slipway worker started'), 60_000, 100);
      const started = out.stdout.split('\n').find((l) => l.includes('slipway worker started'))!;
      const line = JSON.parse(started);
      assert.equal(line.level, 'INFO');
      assert.equal(line.taskQueue, tq);
      assert.doesNotMatch(out.stdout + out.stderr, new RegExp(stack.world.workerEnv.GITHUB_TOKEN), 'no secret in the logs');

      const outcome = await deployOutcome(await startDeploy(stack.client, { app: 'api', env: 'staging', tag: NEW_TAG, actor: 'alice' }, { taskQueue: tq }));
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const metrics = await eventually(
        'metrics',
        async () => {
          const text = await fetch(`http://127.0.0.1:${port}/metrics`)
            .then((r) => r.text())
            .catch(() => '');
          return /temporal_workflow_completed|temporal_activity_execution_latency/.test(text) ? text : undefined;
        },
        30_000,
        250,
      );
      assert.match(metrics, new RegExp(`task_queue="${tq}"`));
      assert.match(out.stdout, new RegExp(`slipway gate worker started.*${tq}-gates`), 'the gate worker serves its own task queue');
    } finally {
      child.kill('SIGTERM');
    }
    await eventually('the worker to stop on SIGTERM', () => out.code !== undefined, 30_000, 100);
  });

  it('exports Slipway metrics: a rolled-back deploy with its labels, ECS calls and throttles, the pipeline queue; every log line is JSON', async () => {
    const port = await freePort();
    const tq = freshTaskQueue('worker-metrics');
    // A Slack webhook that refuses every message: each notification is logged as not sent.
    const slack = createServer((req, res) => req.resume().on('end', () => res.writeHead(400).end('invalid_payload')));
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    const webhook = `http://127.0.0.1:${(slack.address() as { port: number }).port}/services/T000/B000/secret-part`;
    const { child, out } = worker({ ...stack.world.workerEnv, SLIPWAY_TASK_QUEUE: tq, SLIPWAY_METRICS_BIND: `127.0.0.1:${port}`, SLACK_WEBHOOK_URL: webhook });
    const scrape = () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    try {
      await eventually('the worker to start', () => out.stdout.includes('slipway worker started'), 60_000, 100);
      const before = await eventually('the metrics endpoint', () => scrape().catch(() => undefined), 30_000, 100);

      // A deploy that ECS rolls back (its image fails the health check), with throttled ECS calls meanwhile.
      stack.ecs.failImage(`openverse-api:${BAD_TAG}`, { reason: 'CannotStartContainerError: django exited' });
      stack.ecs.resetCalls();
      stack.ecs.setFaults({ throttleRate: 0.2, seed: 7 });
      const outcome = await deployOutcome(await startDeploy(stack.client, { app: 'api', env: 'staging', tag: BAD_TAG, actor: 'alice' }, { taskQueue: tq }));
      stack.ecs.setFaults({});
      stack.ecs.clearFailures();
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.details?.outcome, 'rolled_back_by_ecs', JSON.stringify(outcome));

      const rolledBack = { app: 'api', env: 'staging', operation: 'deploy', outcome: 'rolled_back_by_ecs' };
      const metrics = await eventually(
        'the rolled-back deploy in the metrics',
        async () => {
          const text = await scrape();
          return total(text, 'slipway_operations', rolledBack) > 0 ? text : undefined;
        },
        30_000,
        250,
      );
      assert.deepEqual(samples(metrics, 'slipway_operations', { ...rolledBack, workflowType: 'deploy', taskQueue: tq }), [1]);
      assert.equal(total(metrics, 'slipway_operations', { outcome: 'succeeded' }), 0, 'nothing else counted');
      assert.deepEqual(samples(metrics, 'slipway_deploy_duration_seconds_count', rolledBack), [1]);
      assert.ok(total(metrics, 'slipway_deploy_duration_seconds_sum', rolledBack) > 0, 'the deploy took some time');
      assert.deepEqual(samples(metrics, 'slipway_deploy_duration_seconds_bucket', { ...rolledBack, le: '+Inf' }), [1]);
      assert.deepEqual(samples(metrics, 'slipway_detection_latency_seconds_count', { app: 'api', env: 'staging', outcome: 'rolled_back_by_ecs' }), [1]);

      // Every ECS request the sandbox received is counted once, by category, and every throttling answer.
      const received = stack.ecs.calls.length;
      const throttled = stack.ecs.calls.filter((c) => c.fault === 'throttle').length;
      assert.ok(throttled > 0, 'some calls were throttled');
      assert.equal(total(metrics, 'slipway_ecs_calls') - total(before, 'slipway_ecs_calls'), received);
      assert.equal(total(metrics, 'slipway_ecs_throttles') - total(before, 'slipway_ecs_throttles'), throttled);
      assert.ok(total(metrics, 'slipway_ecs_calls', { category: 'service_read', api: 'DescribeServices' }) > 0);
      assert.ok(total(metrics, 'slipway_ecs_calls', { category: 'task_definition_write', api: 'RegisterTaskDefinition' }) > 0);

      // The pipeline: a candidate awaiting approval (and since when), and the merges queued behind it.
      const merge = (sha: string) => reportMerge(stack.client, 'api', { sha, actor: 'dhruv', title: `merge ${sha.slice(0, 7)}` }, { taskQueue: tq });
      // Merges are commits on the default branch (the pipeline picks by git ancestry).
      const commit = (title: string) => stack.world.github.addCommit('WordPress', 'openverse', { message: title });
      const candidate = commit('merge one');
      await stack.world.pushTags(candidate);
      const mergedAt = Date.now();
      await merge(candidate);
      const pipeline = stack.client.workflow.getHandle(pipelineWorkflowId('api'));
      await eventually('the candidate to await approval', async () => (await pipeline.query(pipelineStateQuery)).phase === 'awaiting_approval', 60_000, 100);
      const queued = [commit('merge two'), commit('merge three')];
      for (const sha of queued) await merge(sha);
      const gauges = await eventually(
        'the pipeline gauges',
        async () => {
          const text = await scrape();
          return total(text, 'slipway_pipeline_queue_length', { app: 'api' }) === queued.length ? text : undefined;
        },
        30_000,
        250,
      );
      assert.deepEqual(samples(gauges, 'slipway_pipeline_awaiting_approval', { app: 'api', workflowType: 'pipeline' }), [1]);
      const since = total(gauges, 'slipway_pipeline_awaiting_approval_since_seconds', { app: 'api' }) * 1000;
      assert.ok(since >= mergedAt - 1000 && since <= Date.now(), `awaiting approval since ${new Date(since).toISOString()}`);
      await pipeline.terminate('test over');

      // Logs: JSON lines on stdout only; the refused Slack notifications among them, without the webhook's secret.
      const lines = out.stdout.split('\n').filter(Boolean);
      for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON line: ${l}`);
      assert.ok(
        lines.some((l) => /Slack notification .* not sent/.test(JSON.parse(l).message)),
        'the refused notification is logged',
      );
      assert.equal(out.stderr, '', 'nothing on stderr');
      assert.doesNotMatch(out.stdout, /secret-part/);
    } finally {
      child.kill('SIGTERM');
      slack.close();
    }
    await eventually('the worker to stop on SIGTERM', () => out.code !== undefined, 30_000, 100);
  });

  it('refuses to start when authorisation is configured but the GitHub token is missing', async () => {
    const { out } = worker({ GITHUB_TOKEN: '' });
    await eventually('the worker to exit', () => out.code !== undefined, 60_000, 100);
    assert.equal(out.code, 1);
    const line = JSON.parse(out.stdout.trim().split('\n').pop()!);
    assert.equal(line.level, 'ERROR');
    assert.match(line.message, /authorization is configured but \$GITHUB_TOKEN is not set/);
    assert.equal(out.stderr, '');
  });

  it('says clearly that Temporal cannot be reached, as the CLI does', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const { out } = worker({ ...stack.world.workerEnv, TEMPORAL_ADDRESS: address });
    await eventually('the worker to exit', () => out.code !== undefined, 60_000, 100);
    assert.equal(out.code, 1);
    const line = JSON.parse(out.stdout.trim().split('\n').pop()!);
    assert.equal(line.level, 'ERROR');
    assert.equal(
      line.message,
      `slipway worker stopped: cannot reach Temporal at ${address} (namespace default): connection refused. Set TEMPORAL_ADDRESS (and TLS/API key settings) to your cluster.`,
    );
    assert.equal(out.stderr, '');

    const cli = spawn(join(REPO_ROOT, 'bin', 'slipway'), ['history', 'api', 'staging', '--config', stack.configPath], {
      env: { ...process.env, TEMPORAL_ADDRESS: address },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    cli.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => cli.on('exit', r));
    assert.equal(code, 6);
    assert.match(stderr, new RegExp(`cannot reach Temporal at ${address} \\(namespace default\\): .*\\. Set TEMPORAL_ADDRESS \\(and TLS/API key settings\\) to your cluster\\.`));
  });
});
