/**
 * The GitHub Action (action.yml) and the example workflows that use it:
 * - actionlint (pinned, installed by scripts/setup.sh) checks the examples and, through
 *   them, action.yml: every input they pass exists and every required one is passed;
 * - the examples call Slipway only through the action, and cover the runbook's jobs;
 * - the action's run step runs, as the runner would run it (its env resolved from the
 *   inputs, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files), against the sandbox world:
 *   outputs, job summary, annotations and exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../sandbox/tools';
import { freshTaskQueue, pipelineUntil, runProcess, startStack, startWorker, type ProcessRun, type RunningWorker, type Stack } from './harness';

const EXAMPLES = join(REPO_ROOT, 'examples', 'github-workflows');
const USES = 'your-org/slipway@v1';
const action = parseYaml(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: { id?: string; uses?: string; run?: string; env?: Record<string, string>; shell?: string }[] };
};
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yml'))
  .map((file) => ({ file, doc: parseYaml(readFileSync(join(EXAMPLES, file), 'utf8')) as { jobs: Record<string, { steps: Record<string, any>[] }> } }));

function actionlintPath(): string {
  const recorded = /^ACTIONLINT_PATH=(.+)$/m.exec(existsSync(join(REPO_ROOT, '.tools', 'env')) ? readFileSync(join(REPO_ROOT, '.tools', 'env'), 'utf8') : '')?.[1];
  const p = process.env.ACTIONLINT_PATH || recorded || join(REPO_ROOT, '.tools', 'go', 'bin', 'actionlint');
  assert.ok(existsSync(p), `actionlint is not installed at ${p}: run ./scripts/setup.sh (it needs Go)`);
  return p;
}

/** A repository holding action.yml and the examples as its workflows, the action used as `./`. */
function lintRepo(rewrite: (file: string, text: string) => string = (_, t) => t): { dir: string; lint: () => { code: number | null; out: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-actionlint-'));
  mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'action.yml'), join(dir, 'action.yml'));
  for (const { file } of examples) {
    const text = readFileSync(join(EXAMPLES, file), 'utf8').replaceAll(USES, './');
    writeFileSync(join(dir, '.github', 'workflows', file), rewrite(file, text));
  }
  spawnSync('git', ['init', '-q', dir]);
  return {
    dir,
    lint: () => {
      const r = spawnSync(actionlintPath(), ['-no-color'], { cwd: dir, encoding: 'utf8' });
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    },
  };
}

describe('action.yml and the example workflows', () => {
  it('pass actionlint, which checks the inputs they give the action against action.yml', () => {
    const repo = lintRepo();
    try {
      const r = repo.lint();
      assert.equal(r.code, 0, r.out);
    } finally {
      rmSync(repo.dir, { recursive: true, force: true });
    }
  });

  it('actionlint catches a misspelt input and a missing required one', () => {
    const repo = lintRepo((file, text) => (file === 'redeploy.yml' ? text.replace('temporal-address:', 'temporal-adress:') : text));
    try {
      const r = repo.lint();
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /redeploy\.yml.*input "temporal-adress" is not defined in action "Slipway"/);
      assert.match(r.out, /redeploy\.yml.*missing input "temporal-address" which is required/);
    } finally {
      rmSync(repo.dir, { recursive: true, force: true });
    }
  });

  it('call Slipway only through the action, and cover the runbook', () => {
    const commands = new Map<string, string>();
    for (const { file, doc } of examples) {
      let uses = 0;
      for (const [job, j] of Object.entries(doc.jobs)) {
        for (const step of j.steps) {
          assert.doesNotMatch(String(step.run ?? ''), /\bslipway\b|\$code|npm ci/, `${file} (${job}): a run step copies what the action does`);
          assert.ok(!String(step.uses ?? '').startsWith('actions/setup-node'), `${file} (${job}): the action sets up Node itself`);
          if (step.uses !== USES) continue;
          uses++;
          commands.set(step.with.command, file);
          for (const input of ['temporal-address', 'temporal-namespace', 'temporal-api-key', 'config']) assert.ok(step.with[input], `${file} (${job}): passes ${input}`);
          assert.match(step.with['temporal-api-key'], /^\$\{\{ secrets\./, `${file}: the API key comes from a secret`);
        }
      }
      assert.ok(uses > 0, `${file} uses ${USES}`);
    }
    assert.deepEqual([...commands.keys()].sort(), ['deploy', 'pipeline-approve', 'pipeline-merged', 'pipeline-reject', 'redeploy', 'release', 'rollback']);
    const deployVersion = examples.find((e) => e.file === 'deploy-version.yml')!.doc.jobs.deploy.steps.find((s) => s.uses === USES)!;
    assert.deepEqual([deployVersion.with.command, deployVersion.with.tag, deployVersion.with.env], ['deploy', '${{ inputs.tag }}', '${{ inputs.environment }}']);
    const redeploy = examples.find((e) => e.file === 'redeploy.yml')!.doc.jobs.redeploy.steps.find((s) => s.uses === USES)!;
    assert.equal(redeploy.with.command, 'redeploy');
    assert.equal(redeploy.with.tag, undefined, 'a redeploy takes the version the environment reports');
  });

  it('the production button and the other workflows that act on production prove who clicked (id-token: write, actor github.actor)', () => {
    for (const file of ['production.yml', 'release.yml', 'rollback.yml', 'pipeline.yml']) {
      const { doc } = examples.find((e) => e.file === file)! as { doc: any };
      assert.equal(doc.permissions?.['id-token'], 'write', `${file}: permissions: id-token: write`);
      for (const [job, j] of Object.entries<any>(doc.jobs)) {
        for (const step of j.steps.filter((s: any) => s.uses === USES)) {
          assert.equal(step.with.actor, '${{ github.actor }}', `${file} (${job}): the actor is github.actor, the one the ID token proves`);
        }
      }
    }
    const { doc } = examples.find((e) => e.file === 'production.yml')! as { doc: any };
    assert.deepEqual(doc.on.workflow_dispatch.inputs.action.options, ['approve', 'reject', 'rollback', 'release']);
    const steps = doc.jobs.production.steps.filter((s: any) => s.uses === USES);
    assert.deepEqual(
      steps.map((s: any) => [s.if, s.with.command]),
      [
        ["inputs.action == 'approve'", 'pipeline-approve'],
        ["inputs.action == 'reject'", 'pipeline-reject'],
        ["inputs.action == 'rollback'", 'rollback'],
        ["inputs.action == 'release'", 'release'],
      ],
    );
    assert.equal(steps.find((s: any) => s.with.command === 'rollback').with.env, 'production');
  });

  it('sets up Node 24 and exposes the run step outputs', () => {
    assert.equal(action.runs.using, 'composite');
    const setup = action.runs.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    assert.equal(setup?.uses, 'actions/setup-node@v6');
    for (const name of ['workflow-id', 'outcome', 'link', 'exit-code']) assert.equal(action.outputs[name].value, `\${{ steps.run.outputs.${name} }}`);
    assert.equal(action.inputs.actor.default, '${{ github.triggering_actor }}');
  });
});

describe('the action against the sandbox', () => {
  const A = '1'.repeat(40);
  const BAD = '5'.repeat(40);
  const UI = 'http://temporal-ui.test:8233';
  let stack: Stack;
  let worker: RunningWorker;
  let dir: string;
  let base: NodeJS.ProcessEnv;
  let n = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-action-'));
    stack = await startStack({
      timing: { taskStartMs: 200, healthyMs: 200, drainMs: 150 },
      configure: (raw) => {
        raw.apps.api.pipeline = { approvals: 1 };
      },
    });
    await stack.world.pushTags(A, BAD);
    const tq = freshTaskQueue('action');
    worker = await startWorker(stack, tq);
    base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|GITHUB_|SLIPWAY_|INPUT_|RUNNER_)/.test(k)));
    base.SLIPWAY_TASK_QUEUE = tq;
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface ActionRun extends ProcessRun {
    outputs: Record<string, string>;
    summary: string;
  }

  /** Runs action.yml's `run` step as the runner would: env from the inputs (and defaults), GitHub's files. */
  async function runAction(inputs: Record<string, string>): Promise<ActionRun> {
    const step = action.runs.steps.find((s) => s.id === 'run')!;
    const github: Record<string, string> = { triggering_actor: 'alice', action_path: REPO_ROOT };
    const value = (name: string) => inputs[name] ?? action.inputs[name]?.default ?? '';
    const resolve = (text: string): string =>
      text.replace(/\$\{\{\s*(inputs|github)\.([\w-]+)\s*\}\}/g, (_, ctx: string, name: string): string => (ctx === 'inputs' ? resolve(value(name)) : (github[name] ?? '')));
    for (const [name, spec] of Object.entries(action.inputs)) if (spec.required) assert.ok(inputs[name] !== undefined, `required input ${name}`);
    const id = ++n;
    const output = join(dir, `output-${id}`);
    const summary = join(dir, `summary-${id}.md`);
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const env: NodeJS.ProcessEnv = {
      ...base,
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, resolve(v)])),
      GITHUB_ACTIONS: 'true',
      GITHUB_ACTION_PATH: REPO_ROOT,
      GITHUB_WORKSPACE: dir,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
    };
    assert.equal(step.shell, 'bash');
    const r = await runProcess('bash', ['-e', '-c', step.run!], { cwd: dir, env });
    const outputs: Record<string, string> = {};
    for (const m of readFileSync(output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]] = m[3];
    return { ...r, outputs, summary: readFileSync(summary, 'utf8') };
  }
  const show = (r: ActionRun) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- outputs\n${JSON.stringify(r.outputs)}\n--- summary\n${r.summary}`;
  const connection = () => ({ 'temporal-address': stack.temporal.address, 'temporal-ui-url': UI, config: stack.configPath });

  it('deploys: outputs workflow ID, outcome and link; writes the job summary; exit 0', async () => {
    const r = await runAction({ command: 'deploy', app: 'api', env: 'staging', tag: A, ...connection() });
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(r.outputs, {
      'workflow-id': 'deploy/api/staging',
      outcome: 'succeeded',
      link: `${UI}/namespaces/default/workflows/deploy%2Fapi%2Fstaging`,
      'exit-code': '0',
    });
    assert.match(r.summary, /^### ✔ deploy api 1111111 → staging succeeded/m);
    assert.match(r.summary, /\| actor \| @alice \|/, 'the actor defaults to github.triggering_actor');
    assert.match(r.stderr, /started deploy api 1111111 → staging/, 'progress streams into the log');
    assert.doesNotMatch(r.summary, /Next:/);
  });

  it('a deploy rolled back by ECS: exit 3, outcome rolled_back_by_ecs, an error annotation and what to do next', async () => {
    stack.ecs.failImage(`openverse-frontend:${BAD}`, { reason: 'CannotStartContainerError: nuxt exited' });
    try {
      const r = await runAction({ command: 'deploy', app: 'frontend', env: 'staging', tag: BAD, actor: 'bob', ...connection() });
      assert.equal(r.code, 3, show(r));
      assert.equal(r.outputs.outcome, 'rolled_back_by_ecs');
      assert.equal(r.outputs['workflow-id'], 'deploy/frontend/staging');
      assert.equal(r.outputs['exit-code'], '3');
      assert.match(r.stdout, /^::error title=deploy frontend 5555555 → staging: RolledBackByEcs::.*rolled back by ECS/m);
      assert.match(r.stdout, /^::notice title=slipway deploy frontend staging%3A what next::ECS rolled frontend in staging back/m);
      assert.match(r.summary, /^### ✘ deploy frontend 5555555 → staging: RolledBackByEcs/m);
      assert.match(r.summary, /Stopped tasks:\n- .*CannotStartContainerError: nuxt exited/);
      assert.match(r.summary, /^\*\*Next:\*\* ECS rolled frontend in staging back to the previous revision/m);
    } finally {
      stack.ecs.clearFailures();
    }
  });

  it("pipeline-merged and pipeline-approve return exactly the exit codes pipeline.yml's steps branch on", async () => {
    const doc = examples.find((e) => e.file === 'pipeline.yml')!.doc as any;
    /** The numbered arms of the `case "$CODE"` step after the action step `id` (the `*)` arm is the fallback). */
    const arms = (job: string, id: string): number[] => {
      const steps: any[] = doc.jobs[job].steps;
      const at = steps.findIndex((st) => st.id === id);
      assert.equal(steps[at].uses, USES);
      assert.equal(steps[at]['continue-on-error'], true, `${job}: the job goes on to the step that branches`);
      const next = steps[at + 1];
      assert.equal(next.env.CODE, `\${{ steps.${id}.outputs.exit-code }}`);
      assert.match(next.run, /\*\) .*exit 1 ;;/, `${job}: a fallback arm that fails`);
      return [...String(next.run).matchAll(/^\s*(\d+)\)/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    };
    assert.equal(doc.on.workflow_run.types[0], 'completed', 'the merge is reported once the images are published');
    assert.match(doc.jobs.changes.if, /github\.event\.workflow_run\.conclusion == 'success'/);
    assert.equal(doc.jobs.merged.steps.find((st: any) => st.id === 'merged').with.tag, '${{ github.event.workflow_run.head_sha }}');

    const sha = stack.world.github.addCommit('WordPress', 'openverse', { message: 'Action: a merge for the pipeline' });
    await stack.world.pushTags(sha);
    const down = { 'temporal-address': '127.0.0.1:1', config: stack.configPath };
    const merged = await Promise.all([
      runAction({ command: 'pipeline-merged', app: 'api', tag: sha, title: 'a merge', actor: 'dhruv', ...connection() }),
      runAction({ command: 'pipeline-merged', app: 'api', tag: 'abc123', ...connection() }),
      runAction({ command: 'pipeline-merged', app: 'api', tag: sha, ...down }),
    ]);
    await pipelineUntil(stack, 'api', 'the merge awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === sha);
    const approve = [
      await runAction({ command: 'pipeline-approve', app: 'api', tag: A, ...connection() }),
      await runAction({ command: 'pipeline-approve', app: 'api', tag: sha, actor: 'mallory', ...connection() }),
      await runAction({ command: 'pipeline-approve', app: 'api', tag: sha, ...down }),
      await runAction({ command: 'pipeline-approve', app: 'api', tag: sha, actor: 'alice', ...connection() }),
    ];
    const codes = (runs: ActionRun[]) => runs.map((r) => r.code!);
    assert.deepEqual(codes(merged), [0, 2, 6], merged.map(show).join('\n'));
    assert.deepEqual(codes(approve), [2, 5, 6, 0], approve.map(show).join('\n'));
    assert.deepEqual(
      arms('merged', 'merged'),
      [...new Set(codes(merged))].sort((a, b) => a - b),
    );
    assert.deepEqual(
      arms('approve', 'approve'),
      [...new Set(codes(approve))].sort((a, b) => a - b),
    );
  });

  it('refuses missing or wrong inputs with exit 2 before connecting, and an unauthorised actor with 5', async () => {
    const [noTag, wrong, down, mallory] = await Promise.all([
      runAction({ command: 'deploy', app: 'api', env: 'staging', ...connection() }),
      runAction({ command: 'launch', app: 'api', ...connection() }),
      runAction({ command: 'deploy', app: 'api', env: 'staging', tag: 'v1 2', 'temporal-address': '127.0.0.1:1', config: stack.configPath }),
      runAction({ command: 'rollback', app: 'api', env: 'staging', tag: A, actor: 'mallory', ...connection() }),
    ]);
    const untilRollback = await runAction({
      command: 'rollback',
      app: 'api',
      env: 'staging',
      'wait-until': 'traffic-shifted',
      'temporal-address': '127.0.0.1:1',
      config: stack.configPath,
    });
    assert.equal(untilRollback.code, 2, show(untilRollback));
    assert.match(untilRollback.stdout, /input 'wait-until' applies to deploy only/);
    const untilWhen = await runAction({ command: 'deploy', app: 'api', env: 'staging', tag: A, 'wait-until': 'soon', 'temporal-address': '127.0.0.1:1', config: stack.configPath });
    assert.equal(untilWhen.code, 2, `the milestone is checked before Temporal is tried: ${show(untilWhen)}`);
    assert.match(untilWhen.stderr, /--wait-until soon: give one of done, traffic-shifted/);
    assert.equal(noTag.code, 2, show(noTag));
    assert.match(noTag.stdout, /^::error title=slipway deploy api staging::deploy needs the input\(s\) tag$/m);
    assert.equal(noTag.outputs.outcome, 'refused');
    assert.equal(wrong.code, 2, show(wrong));
    assert.match(wrong.stdout, /input 'command' must be one of deploy, rollback, redeploy, release, pipeline-merged, pipeline-approve, pipeline-reject; got 'launch'/);
    assert.equal(down.code, 2, `a bad tag is refused before Temporal is tried: ${show(down)}`);
    assert.match(down.stderr, /"v1 2" is not a valid image tag/);
    assert.match(down.summary, /^\*\*Next:\*\* Refused before anything changed/m);
    assert.equal(mallory.code, 5, show(mallory));
    assert.equal(mallory.outputs.outcome, 'unauthorized');
    assert.match(mallory.summary, /\*\*Next:\*\* @mallory may not rollback api in staging/);
  });
});
