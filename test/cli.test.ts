/**
 * The `slipway` CLI end to end, as users run it: `bin/slipway` as a subprocess against a
 * real Temporal dev server, a worker, and the sandbox world (ECS, registry, GitHub, sites).
 * Asserts exit codes, `--json` output, GitHub Actions annotations and job summaries, and
 * the read-only commands (status, history, tags, diff).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DeploymentConfiguration, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { createRegistryClient } from '../activities/registry';
import { deployOutcome, startDeploy } from '../client/operations';
import { seedImages } from '../sandbox/registry';
import { REPO_ROOT } from '../sandbox/tools';
import { OUTSIDER } from '../sandbox/world';
import { deployWorkflowId, progressQuery } from '../contract';
import { INITIAL_TAG, eventually, freshTaskQueue, runProcess, startStack, startWorker, type ProcessRun as Run, type RunningWorker, type Stack } from './harness';

const A = '1'.repeat(40);
const B = '2'.repeat(40);
const C = '3'.repeat(40);
const BAD = '5'.repeat(40);
/** Only on one image of the api: listed apart by `tags`, refused by `diff`. */
const HALF = '6'.repeat(40);
const ALIAS = 'rel-2025.01.02.03.04.05';
const UI = 'http://temporal-ui.test:8233';

describe('slipway CLI', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  /** Started first: a connection attempt to a closed port takes the CLI's 10 s connect timeout. */
  let unreachable: Promise<Run[]>;

  /** Runs `bin/slipway` with the stack's environment (plus `extra`). */
  function slipway(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
    return runProcess(join(REPO_ROOT, 'bin', 'slipway'), args, { cwd: dir, env: { ...env, ...extra } });
  }
  /** Waits until visibility shows no operation of `app` still running (outcomes are written as they end). */
  const settled = (app: string) =>
    eventually(`visibility to show the outcomes of ${app}`, async () => {
      const running = stack.client.workflow.list({ query: `App = '${app}' AND SlipwayOperation IN ('deploy', 'rollback', 'redeploy') AND Outcome = 'running'` });
      for await (const _ of running) return false;
      return true;
    });
  const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|GITHUB_|SLIPWAY_)/.test(k)));
    env = { ...base, TEMPORAL_ADDRESS: '127.0.0.1:1', SLIPWAY_CONFIG: join(REPO_ROOT, 'config', 'openverse.yaml') };
    unreachable = Promise.all([slipway(['deploy', 'api', 'staging', A, '--actor', 'alice']), slipway(['status'])]);
    stack = await startStack({ timing: { taskStartMs: 200, healthyMs: 200, drainMs: 150 } });
    await stack.world.pushTags(A, B, C, BAD);
    const tq = freshTaskQueue('cli');
    worker = await startWorker(stack, tq);
    env = {
      ...base,
      TEMPORAL_ADDRESS: stack.temporal.address,
      SLIPWAY_CONFIG: stack.configPath,
      SLIPWAY_TASK_QUEUE: tq,
      TEMPORAL_UI_URL: UI,
    };
  });
  after(async () => {
    await unreachable?.catch(() => undefined);
    await worker?.stop();
    await stack?.close();
  });

  it('deploy succeeds with exit 0 and a JSON result', async () => {
    const r = await slipway(['deploy', 'api', 'staging', A, '--actor', 'alice', '--reason', 'cli test', '--json']);
    assert.equal(r.code, 0, show(r));
    const result = JSON.parse(r.stdout);
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.tag, A);
    assert.equal(result.workflowId, 'deploy/api/staging');
    assert.equal(result.url, `${UI}/namespaces/default/workflows/deploy%2Fapi%2Fstaging`);
    assert.equal(result.verified.release, A);
    assert.match(r.stderr, /started deploy api 1111111 → staging/);
    assert.doesNotMatch(r.stdout, /::error/);
  });

  it('a failing image exits 3 with an ::error annotation and a job summary naming the stopped reasons', async () => {
    const summary = join(dir, 'summary.md');
    stack.ecs.failImage(`openverse-frontend:${BAD}`, { reason: 'CannotStartContainerError: nuxt exited' });
    try {
      const r = await slipway(['deploy', 'frontend', 'staging', BAD, '--actor', 'alice'], { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary });
      assert.equal(r.code, 3, show(r));
      assert.match(r.stdout, /^::error title=deploy frontend 5555555 → staging: RolledBackByEcs::.*rolled back by ECS/m);
      const md = readFileSync(summary, 'utf8');
      assert.match(md, /^### ✘ deploy frontend 5555555 → staging: RolledBackByEcs/m);
      assert.match(md, /rolled back by ECS/);
      assert.match(md, /Stopped tasks:\n- .*CannotStartContainerError: nuxt exited/);
      assert.match(md, /Execution: \[deploy\/frontend\/staging\]\(http:\/\/temporal-ui\.test:8233\//);
    } finally {
      stack.ecs.clearFailures();
    }
  });

  it('refuses bad arguments with exit 2, naming what is valid', async () => {
    const cases: { args: string[]; stderr: RegExp }[] = [
      { args: ['deploy', 'catalog', 'staging', A, '--actor', 'alice'], stderr: /unknown app "catalog".*apps that can be deployed: api, frontend/ },
      { args: ['deploy', 'api', 'prod', A, '--actor', 'alice'], stderr: /api has no environment "prod".*staging, production/ },
      { args: ['deploy', 'api', 'staging', A, '--actr', 'alice'], stderr: /unknown option '--actr' \(did you mean --actor\?\)\. Run 'slipway help deploy'/ },
      { args: ['launch'], stderr: /unknown command 'launch'; commands: deploy, rollback, redeploy.*status, history, tags, diff/ },
      { args: ['deplyo', 'api'], stderr: /unknown command 'deplyo'; commands: .* \(did you mean deploy\?\)/ },
      { args: ['deploy', 'api', 'staging'], stderr: /missing required argument 'tag'\. Run 'slipway help deploy'/ },
      { args: ['deploy', 'api', 'staging', A, 'extra', '--actor', 'alice'], stderr: /too many arguments for 'deploy'/ },
      { args: ['status', '--tag', A], stderr: /unknown option '--tag': --tag is an option of rollback, pipeline approve, pipeline reject only/ },
      { args: ['pipeline', 'approve', 'api', '--actor', 'alice'], stderr: /required option '--tag <sha>' not specified\. Run 'slipway help pipeline approve'/ },
      { args: ['history', 'api', '--limit', 'ten'], stderr: /--limit ten: give a whole number/ },
      { args: ['diff', 'ingestion_server', 'production', A], stderr: /release-only/ },
    ];
    const runs = await Promise.all(cases.map((c) => slipway(c.args)));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i].args.join(' ')}: ${show(r)}`);
      assert.match(r.stderr, cases[i].stderr, cases[i].args.join(' '));
    });
  });

  it('help, per-command help and --version need nothing but the CLI', async () => {
    const [top, help, perCommand, version, bare] = await Promise.all([
      slipway(['--help']),
      slipway(['help', 'rollback']),
      slipway(['pipeline', 'approve', '--help']),
      slipway(['--version']),
      slipway([]),
    ]);
    for (const r of [top, help, perCommand, version]) assert.equal(r.code, 0, show(r));
    assert.match(top.stdout, /^Usage: slipway <command>/m);
    for (const c of ['deploy', 'rollback', 'redeploy', 'release', 'status', 'history', 'tags', 'diff', 'pipeline']) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'));
    assert.match(help.stdout, /^Usage: slipway rollback \[options\] <app> <env>$/m);
    assert.match(help.stdout, /--tag <tag> +the image tag to go back to/);
    assert.match(help.stdout, /Exit codes: 0 success/);
    assert.match(perCommand.stdout, /^Usage: slipway pipeline approve \[options\] <app>$/m);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
    assert.equal(bare.code, 2, 'no command: the help, and exit 2');
    assert.match(bare.stdout, /^Usage: slipway <command>/m);
  });

  it('argument errors come before any connection (Temporal down) and as JSON under --json', async () => {
    const down = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const started = Date.now();
    const [noTag, reject, json, unknownJson] = await Promise.all([
      slipway(['pipeline', 'approve', 'api', '--actor', 'alice'], down),
      slipway(['pipeline', 'reject', 'api', '--tag', A, '--actor', 'alice'], down),
      slipway(['deploy', 'api', 'staging', '--json'], down),
      slipway(['deploy', 'api', 'staging', A, '--bogus', '--json'], down),
    ]);
    assert.ok(Date.now() - started < 9000, 'none of them waited for the 10 s connect timeout');
    for (const r of [noTag, reject, json, unknownJson]) assert.equal(r.code, 2, show(r));
    assert.match(reject.stderr, /required option '--reason <text>' not specified/);
    assert.deepEqual(JSON.parse(json.stdout), { ok: false, type: 'BadInput', message: "missing required argument 'tag'. Run 'slipway help deploy'." });
    assert.equal(JSON.parse(unknownJson.stdout).type, 'BadInput');
    assert.match(JSON.parse(unknownJson.stdout).message, /unknown option '--bogus'/);
  });

  it('a second deploy while one runs exits 7 naming it; status shows it in flight with its phase and a link', async () => {
    stack.ecs.setSpeed(0.02);
    let workflowId: string | undefined;
    try {
      const started = await slipway(['deploy', 'api', 'production', B, '--actor', 'alice', '--no-wait', '--json']);
      assert.equal(started.code, 0, show(started));
      ({ workflowId } = JSON.parse(started.stdout));
      assert.equal(workflowId, deployWorkflowId('api', 'production'));
      const handle = stack.client.workflow.getHandle(workflowId!);
      await eventually('the deploy to wait on ECS', async () => (await handle.query(progressQuery).catch(() => undefined))?.phase === 'waiting');

      const second = await slipway(['deploy', 'api', 'production', C, '--actor', 'bob']);
      assert.equal(second.code, 7, show(second));
      assert.match(
        second.stderr,
        new RegExp(
          `a deploy of this service is already running: tag ${B} by @alice .*workflow deploy/api/production.*${UI}/namespaces/default/workflows/deploy%2Fapi%2Fproduction/`,
        ),
      );

      const [json, human] = await Promise.all([slipway(['status', '--json']), slipway(['status', 'api'])]);
      assert.equal(json.code, 0, show(json));
      const apps = JSON.parse(json.stdout).apps as any[];
      const api = apps.find((a) => a.app === 'api');
      const production = api.environments.find((e: any) => e.env === 'production');
      assert.equal(production.inFlight.length, 1, JSON.stringify(production));
      assert.deepEqual(
        { operation: production.inFlight[0].operation, tag: production.inFlight[0].tag, actor: production.inFlight[0].actor, phase: production.inFlight[0].phase },
        { operation: 'deploy', tag: B, actor: 'alice', phase: 'waiting' },
      );
      assert.match(production.inFlight[0].url, /^http:\/\/temporal-ui\.test:8233\/namespaces\/default\/workflows\/deploy%2Fapi%2Fproduction\/[0-9a-f-]+\/history$/);
      assert.equal(production.reported.release, INITIAL_TAG, 'production still serves the old release');
      const staging = api.environments.find((e: any) => e.env === 'staging');
      assert.equal(staging.reported.release, A);
      assert.equal(staging.lastValidated.tag, A);
      assert.deepEqual(staging.inFlight, []);
      assert.deepEqual(
        apps.find((a) => a.app === 'ingestion_server'),
        { app: 'ingestion_server', releaseOnly: true, environments: [] },
      );

      assert.equal(human.code, 0, show(human));
      assert.match(human.stdout, /^api\s+staging\s+1111111\s+—\s+1111111 @alice/m);
      assert.match(human.stdout, /^api\s+production\s+aaaaaaa\s+deploy 2222222 @alice waiting/m);
      assert.match(human.stdout, new RegExp(`deploy api 2222222 → production by @alice, phase waiting, since .*: ${UI}/namespaces/default/workflows/deploy%2Fapi%2Fproduction/`));
    } finally {
      stack.ecs.setSpeed(1);
    }
    const outcome = await deployOutcome(stack.client.workflow.getHandle(workflowId!));
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
  });

  it('history lists the finished operations with their outcomes, newest first', async () => {
    await Promise.all([settled('api'), settled('frontend')]);
    const [api, frontend] = await Promise.all([slipway(['history', 'api', '--json']), slipway(['history', 'frontend', 'staging', '--limit', '5'])]);
    for (const r of [api, frontend]) assert.equal(r.code, 0, show(r));
    const ops = JSON.parse(api.stdout).operations as any[];
    assert.deepEqual(
      ops.map((o) => [o.operation, o.env, o.tag, o.actor, o.outcome]),
      [
        ['deploy', 'production', B, 'alice', 'succeeded'],
        ['deploy', 'staging', A, 'alice', 'succeeded'],
      ],
    );
    assert.ok(ops.every((o) => o.durationMs > 0 && o.url.startsWith(`${UI}/namespaces/default/workflows/deploy%2Fapi%2F`)));
    const lines = frontend.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^WHEN\s+OPERATION\s+ENV\s+TAG\s+ACTOR\s+OUTCOME\s+DURATION\s+LINK$/);
    assert.equal(lines.length, 2, frontend.stdout);
    assert.match(
      lines[1],
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+deploy\s+staging\s+5555555\s+@alice\s+rolled_back_by_ecs\s+\d+s\s+http:\/\/temporal-ui\.test:8233\/namespaces\/default\/workflows\/deploy%2Ffrontend%2Fstaging\//,
    );
  });

  it('tags lists the tags on every image, release aliases first with what they point at', async () => {
    const registry = createRegistryClient({ insecureHosts: [stack.world.registry.host] });
    const apiRepos = Object.values(stack.config().apps.api.images);
    for (const repo of apiRepos) await registry.aliasTag(repo, A, ALIAS);
    await seedImages(stack.world.registry.url, [apiRepos[0]], [HALF]);

    const human = await slipway(['tags', 'api']);
    assert.equal(human.code, 0, show(human));
    const [head, , columns, ...rest] = human.stdout.trimEnd().split('\n');
    assert.equal(head, 'api (openverse-api, openverse-api_nginx): 6 tag(s) on every image, 1 of them release aliases');
    assert.match(columns, /^TAG\s+NOTE$/);
    assert.match(rest[0], new RegExp(`^${ALIAS.replace(/\./g, '\\.')}\\s+release alias of ${A}$`), 'release aliases first, with their commit');
    assert.deepEqual(rest.slice(1, 6).sort(), [A, B, C, BAD, INITIAL_TAG]);
    assert.deepEqual(rest.slice(6), ['', 'Not on every image (cannot be deployed):', `  ${HALF}: missing on ${apiRepos[1]}`]);
  });

  it('diff (and deploy --dry-run) shows the image change and changes nothing', async () => {
    const before = await stack.client.workflow.getHandle(deployWorkflowId('api', 'staging')).describe();
    stack.ecs.resetCalls();
    const [human, json, half] = await Promise.all([
      slipway(['diff', 'api', 'staging', B]),
      slipway(['deploy', 'api', 'staging', B, '--dry-run', '--json']),
      slipway(['diff', 'api', 'staging', HALF]),
    ]);
    assert.equal(human.code, 0, show(human));
    const host = stack.world.registry.host;
    assert.match(human.stdout, /^Plan: deploy api 2222222 → staging \(dry run: nothing is registered or changed\)$/m);
    assert.match(human.stdout, /compared with staging-api:2, which staging-default\/staging-api runs now/);
    assert.ok(human.stdout.includes(`~ containerDefinitions.django.image: ${host}/wordpress/openverse-api:${A} → ${host}/wordpress/openverse-api:${B}`), human.stdout);
    assert.ok(human.stdout.includes(`~ containerDefinitions.nginx.image: ${host}/wordpress/openverse-api_nginx:${A} → ${host}/wordpress/openverse-api_nginx:${B}`), human.stdout);
    assert.match(human.stdout, /^2 change\(s\)\.$/m);
    assert.match(human.stdout, /✔ 2222222 exists for every image \(openverse-api, openverse-api_nginx\)/);
    assert.match(human.stdout, /^ {2}staging-api deploys ROLLING, circuit breaker \(rollback\); budget \d+ min/m);

    assert.equal(json.code, 0, show(json));
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.ok, true);
    assert.deepEqual(plan.changes.map((c: any) => c.path).sort(), ['containerDefinitions.django.image', 'containerDefinitions.nginx.image']);
    assert.match(plan.live.taskDefinitionArn, /task-definition\/staging-api:2$/);
    assert.equal(plan.budget.seconds, stack.config().deploy.budgetMinutes * 60);
    assert.match(plan.strategy, /^ROLLING/);

    assert.equal(half.code, 2, show(half));
    assert.match(half.stdout, /✘ a deploy would be refused: '6{40}' does not appear to be a valid tag for the openverse-api_nginx image\.$/m);
    assert.match(half.stderr, /^slipway: refused: '6{40}' does not appear to be a valid tag for the openverse-api_nginx image\.$/m);
    assert.doesNotMatch(half.stdout + half.stderr, /openverse-api image/, 'the image that has the tag is not named');

    assert.deepEqual(
      stack.ecs.mutations().map((m) => m.op),
      [],
      'no mutating ECS call',
    );
    assert.ok(
      stack.ecs.calls.some((c) => c.op === 'DescribeTaskDefinition'),
      'the template was read',
    );
    const afterwards = await stack.client.workflow.getHandle(deployWorkflowId('api', 'staging')).describe();
    assert.equal(afterwards.runId, before.runId, 'no deploy was started');
  });

  it('rollback and redeploy exit with their documented codes', async () => {
    const outsider = await slipway(['rollback', 'api', 'staging', '--tag', C, '--actor', OUTSIDER]);
    assert.equal(outsider.code, 5, show(outsider));
    assert.match(outsider.stdout + outsider.stderr, /@mallory may not rollback api staging/);

    const rollback = await slipway(['rollback', 'api', 'staging', '--tag', C, '--actor', 'bob', '--reason', 'cli test', '--json']);
    assert.equal(rollback.code, 0, show(rollback));
    assert.deepEqual([JSON.parse(rollback.stdout).tag, JSON.parse(rollback.stdout).chosen], [C, 'explicit']);

    const redeploy = await slipway(['redeploy', 'api', 'staging', '--actor', 'alice', '--json']);
    assert.equal(redeploy.code, 0, show(redeploy));
    assert.equal(JSON.parse(redeploy.stdout).tag, C, 'redeploys what staging reports');

    await settled('api');
    const history = await slipway(['history', 'api', 'staging', '--json']);
    const ops = (JSON.parse(history.stdout).operations as any[]).map((o) => [o.operation, o.outcome]);
    assert.deepEqual(ops.slice(0, 3), [
      ['redeploy', 'succeeded'],
      ['rollback', 'succeeded'],
      ['rollback', 'unauthorized'],
    ]);
  });

  it('a rollback when the last validated release runs again (ECS rolled the next deploy back) answers so with exit 0', async () => {
    const deploy = async (tag: string) =>
      deployOutcome(await startDeploy(stack.client, { app: 'frontend', env: 'staging', tag, actor: 'alice' }, { taskQueue: env.SLIPWAY_TASK_QUEUE! }));
    assert.equal((await deploy(C)).ok, true);
    stack.ecs.failImage(`openverse-frontend:${BAD}`, { reason: 'CannotStartContainerError: nuxt exited' });
    try {
      assert.equal((await deploy(BAD)).ok, false);
    } finally {
      stack.ecs.clearFailures();
    }
    stack.ecs.resetCalls();
    const r = await slipway(['rollback', 'frontend', 'staging', '--actor', 'bob']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^✔ rollback frontend in staging: staging already runs the last validated release ${C} \\(since \\d{4}-[^)]+\\)`, 'm'));
    assert.deepEqual(stack.ecs.mutations(), [], 'nothing registered or updated');
  });

  it('deploy --wait-until traffic-shifted returns at the milestone; the deploy keeps watching and records the true outcome', async () => {
    const bad = await slipway(['deploy', 'frontend', 'production', C, '--actor', 'alice', '--wait-until', 'soon'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--wait-until soon: give one of done, traffic-shifted/);

    const ecs = new ECSClient({ endpoint: stack.ecs.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const configure = (c: DeploymentConfiguration) => ecs.send(new UpdateServiceCommand({ cluster: 'production-default', service: 'production-nuxt', deploymentConfiguration: c }));
    // Blue/green with a 10-minute bake (real minutes here) watched by an alarm.
    await configure({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10, alarms: { alarmNames: ['nuxt-5xx'], enable: true, rollback: true } });
    try {
      const r = await slipway(['deploy', 'frontend', 'production', C, '--actor', 'alice', '--wait-until', 'traffic-shifted', '--json']);
      assert.equal(r.code, 0, show(r));
      const result = JSON.parse(r.stdout);
      assert.equal(result.milestone, 'traffic-shifted');
      assert.match(result.trafficShiftedAt, /^\d{4}-\d\d-\d\dT/);
      const handle = stack.client.workflow.getHandle(deployWorkflowId('frontend', 'production'));
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the deploy keeps watching through the bake time');
      assert.equal((await handle.query(progressQuery)).lifecycleStage, 'BAKE_TIME');
      // What happens after the CLI returned is still the deploy's outcome.
      stack.ecs.setAlarm('nuxt-5xx', true);
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, false);
      if (!outcome.ok) assert.equal(outcome.type, 'RolledBackByAlarm');
    } finally {
      stack.ecs.setAlarm('nuxt-5xx', false);
      await configure({ strategy: 'ROLLING', lifecycleHooks: [], alarms: { alarmNames: [], enable: false, rollback: false } });
      ecs.destroy();
    }
  });

  it('pipeline: merged starts it, status shows the queue, approve checks tag and approver', async () => {
    const sha = stack.world.github.addCommit('WordPress', 'openverse', { message: 'Merge #7' });
    await stack.world.pushTags(sha);
    // A config with a pipeline for the api, without a gate.
    stack.setConfig((raw) => (raw.apps.api.pipeline = { approvals: 1 }));
    try {
      const merged = await slipway(['pipeline', 'merged', 'api', '--sha', sha, '--actor', 'dhruv', '--title', 'Add audio search']);
      assert.equal(merged.code, 0, show(merged));
      assert.match(merged.stdout, /queued [0-9a-f]{7} for api/);
      await eventually(
        'the candidate to await approval',
        async () => {
          const r = await slipway(['pipeline', 'status', 'api', '--json']);
          return r.code === 0 && JSON.parse(r.stdout).phase === 'awaiting_approval';
        },
        60_000,
        250,
      );
      const status = await slipway(['pipeline', 'status', 'api']);
      assert.match(status.stdout, /awaiting approval/);
      assert.match(status.stdout, new RegExp(`candidate: +${sha} Add audio search \\(@dhruv\\)`));

      const wrong = await slipway(['pipeline', 'approve', 'api', '--tag', A, '--actor', 'alice']);
      assert.equal(wrong.code, 2, show(wrong));
      assert.match(wrong.stderr, new RegExp(`the candidate awaiting approval is ${sha}`));
      const outsider = await slipway(['pipeline', 'approve', 'api', '--tag', sha, '--actor', OUTSIDER]);
      assert.equal(outsider.code, 5, show(outsider));
      const ok = await slipway(['pipeline', 'approve', 'api', '--tag', sha, '--actor', 'alice']);
      assert.equal(ok.code, 0, show(ok));
      assert.match(ok.stdout, /approved [0-9a-f]{7} as @alice/);
      const noPipeline = await slipway(['pipeline', 'status', 'frontend2']);
      assert.equal(noPipeline.code, 2);
    } finally {
      stack.resetConfig();
    }
  });

  it(`cannot reach Temporal: exit 6 (diff and tags do not need it)`, async () => {
    const runs = await unreachable;
    for (const r of runs) {
      assert.equal(r.code, 6, show(r));
      assert.match(r.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
    }
    const diff = await slipway(['diff', 'api', 'staging', B], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(diff.code, 0, show(diff));
  });
});
