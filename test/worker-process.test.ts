/**
 * The worker as operators run it: a separate process (worker/main.ts) that logs JSON lines,
 * serves Prometheus metrics of the Temporal runtime, and refuses to start when the config
 * asks for authorisation it cannot check.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deployOutcome, startDeploy } from '../client/operations';
import { freePort } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { eventually, freshTaskQueue, NEW_TAG, startStack, type Stack } from './harness';

describe('worker process', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ timing: { taskStartMs: 150, healthyMs: 150, drainMs: 100 } });
    await stack.world.pushTags(NEW_TAG);
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
      const metrics = await eventually('metrics', async () => {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
        return /temporal_workflow_completed|temporal_activity_execution_latency/.test(text) ? text : undefined;
      }, 30_000, 250);
      assert.match(metrics, new RegExp(`task_queue="${tq}"`));
      assert.match(out.stdout, new RegExp(`slipway gate worker started.*${tq}-gates`), 'the gate worker serves its own task queue');
    } finally {
      child.kill('SIGTERM');
    }
    await eventually('the worker to stop on SIGTERM', () => out.code !== undefined, 30_000, 100);
  });

  it('refuses to start when authorisation is configured but the GitHub token is missing', async () => {
    const { out } = worker({ GITHUB_TOKEN: '' });
    await eventually('the worker to exit', () => out.code !== undefined, 60_000, 100);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /authorization is configured but \$GITHUB_TOKEN is not set/);
  });
});
