/** Handlers of the GitHub Actions endpoints: dispatch a workflow, list, get and cancel its runs. */
import { WEB, commitAuthor, iso, nodeId, repository, userByLogin } from './bodies';
import { type Ctx, dateTest, type Handler, HttpError, notFound, ok, paginate, unprocessable, validationFailed } from './router';
import type { Repo, Workflow, World } from './state';
import type { SandboxWorkflowRun, WorkflowConclusion } from './types';

/** A workflow by numeric id or file name (`smoke.yml`), as the API takes `workflow_id`. */
function findWorkflow(repo: Repo, idOrFile: string): Workflow | undefined {
  for (const wf of repo.workflows?.values() ?? []) {
    if (String(wf.id) === idOrFile || wf.file === idOrFile || `.github/workflows/${wf.file}` === idOrFile) return wf;
  }
  return undefined;
}

/** Where a run is now: `queued`, `in_progress`, or `completed` with its conclusion. */
function runState(run: SandboxWorkflowRun, now = Date.now()): { status: 'queued' | 'in_progress' | 'completed'; conclusion: WorkflowConclusion | null; updatedAt: number } {
  if (run.cancelledAt !== undefined) return { status: 'completed', conclusion: 'cancelled', updatedAt: run.cancelledAt };
  if (now >= run.completesAt) return { status: 'completed', conclusion: run.conclusion, updatedAt: run.completesAt };
  if (now >= run.startedAt) return { status: 'in_progress', conclusion: null, updatedAt: run.startedAt };
  return { status: 'queued', conclusion: null, updatedAt: run.createdAt };
}

function workflowRun(w: World, r: Repo, run: SandboxWorkflowRun) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  const web = `${WEB}/${r.owner.login}/${r.name}`;
  const state = runState(run);
  const checkSuiteId = run.id + 1_000_000_000;
  const commit = r.commits.get(run.headSha);
  const author = commitAuthor(w, commit?.author ?? w.viewer, commit?.date ?? run.createdAt);
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('WorkflowRun', run.id),
    check_suite_id: checkSuiteId,
    check_suite_node_id: nodeId('CheckSuite', checkSuiteId),
    head_branch: run.ref.replace(/^refs\/(?:heads|tags)\//, ''),
    head_sha: run.headSha,
    path: run.path,
    display_title: run.displayTitle,
    run_number: run.runNumber,
    run_attempt: 1,
    referenced_workflows: [],
    event: run.event,
    status: state.status,
    conclusion: state.conclusion,
    workflow_id: run.workflowId,
    url: `${u}/actions/runs/${run.id}`,
    html_url: `${web}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: iso(run.createdAt),
    updated_at: iso(state.updatedAt),
    actor: userByLogin(w, run.actor),
    triggering_actor: userByLogin(w, run.actor),
    run_started_at: iso(run.createdAt),
    jobs_url: `${u}/actions/runs/${run.id}/jobs`,
    logs_url: `${u}/actions/runs/${run.id}/logs`,
    check_suite_url: `${u}/check-suites/${checkSuiteId}`,
    artifacts_url: `${u}/actions/runs/${run.id}/artifacts`,
    cancel_url: `${u}/actions/runs/${run.id}/cancel`,
    rerun_url: `${u}/actions/runs/${run.id}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${u}/actions/workflows/${run.workflowId}`,
    head_commit: {
      id: run.headSha,
      tree_id: commit?.treeSha ?? run.headSha,
      message: commit?.message ?? '',
      timestamp: author.date,
      author: { name: author.name, email: author.email },
      committer: { name: 'GitHub', email: 'noreply@github.com' },
    },
    repository: repository(w, r),
    head_repository: repository(w, r),
    head_repository_id: r.id,
  };
}

/** `${{ inputs.x }}` and `${{ github.event.inputs.x }}` in a `run-name`, substituted. */
function renderRunName(template: string, inputs: Record<string, string>): string {
  return template.replace(/\$\{\{\s*(?:github\.event\.)?inputs\.([A-Za-z_][\w-]*)\s*\}\}/g, (_, name: string) => inputs[name] ?? '');
}

/** Creates a run, as GitHub does for a `workflow_dispatch` event; 204, or 200 with the run's id and URLs when asked. */
export const dispatchWorkflow: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const wf = findWorkflow(repo, ctx.params.workflow_id);
  if (!wf) throw notFound();
  if (!wf.dispatchable) throw unprocessable("Workflow does not have 'workflow_dispatch' trigger");
  const b = ctx.body;
  const ref = String(b.ref);
  const sha = w.resolve(repo, ref);
  if (!sha) throw unprocessable(`No ref found for: ${ref}`);
  const given = (b.inputs ?? {}) as Record<string, unknown>;
  const unexpected = Object.keys(given).filter((name) => !(name in wf.inputs));
  if (unexpected.length) throw unprocessable(`Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(wf.inputs)) {
    const value = given[name];
    if (value === undefined || value === null) {
      if (spec.required && spec.default === undefined) throw unprocessable(`Required input '${name}' not provided`);
      if (spec.default !== undefined) inputs[name] = spec.default;
    } else inputs[name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  const now = Date.now();
  repo.runs ??= [];
  const run: SandboxWorkflowRun = {
    id: w.nextId('run'),
    runNumber: repo.runs.filter((r) => r.workflowId === wf.id).length + 1,
    workflowId: wf.id,
    path: `.github/workflows/${wf.file}`,
    name: wf.name,
    displayTitle: renderRunName(wf.runName ?? wf.name, inputs),
    event: 'workflow_dispatch',
    ref,
    headSha: sha,
    inputs,
    actor: w.viewer,
    createdAt: now,
    listedAt: now + wf.listDelayMs,
    startedAt: now + Math.min(wf.queuedMs, wf.durationMs),
    completesAt: now + wf.durationMs,
    conclusion: wf.conclusion,
  };
  repo.runs.push(run);
  if (b.return_run_details !== true || !wf.runDetails) return { status: 204 };
  const body = workflowRun(w, repo, run);
  return ok({ workflow_run_id: run.id, run_url: body.url, html_url: body.html_url });
};

/** Runs of one workflow, newest first, with GitHub's filters (`event`, `status` or conclusion, `branch`, `actor`, `head_sha`, `created`). */
export const listWorkflowRuns: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const wf = findWorkflow(repo, ctx.params.workflow_id);
  if (!wf) throw notFound();
  const q = ctx.query;
  const created = q.get('created');
  const createdTest = created ? dateTest(created) : undefined;
  if (created && !createdTest) throw validationFailed({ resource: 'WorkflowRun', field: 'created', code: 'invalid' });
  const now = Date.now();
  const matches = (repo.runs ?? [])
    .filter((run) => {
      if (run.workflowId !== wf.id || run.listedAt > now) return false;
      const state = runState(run, now);
      const status = q.get('status');
      return (
        (!q.get('event') || run.event === q.get('event')) &&
        (!status || state.status === status || state.conclusion === status) &&
        (!q.get('branch') || run.ref.replace(/^refs\/(?:heads|tags)\//, '') === q.get('branch')) &&
        (!q.get('actor') || run.actor.toLowerCase() === q.get('actor')!.toLowerCase()) &&
        (!q.get('head_sha') || run.headSha === q.get('head_sha')) &&
        (!createdTest || createdTest(run.createdAt))
      );
    })
    .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const page = paginate(w, ctx, matches);
  return ok({ total_count: matches.length, workflow_runs: page.items.map((run) => workflowRun(w, repo, run)) }, page.headers);
};

function findRun(w: World, ctx: Ctx): { repo: Repo; run: SandboxWorkflowRun } {
  const repo = w.repoOr404(ctx);
  const run = repo.runs?.find((r) => String(r.id) === ctx.params.run_id);
  if (!run) throw notFound();
  return { repo, run };
}

export const getWorkflowRun: Handler = (w, ctx) => {
  const { repo, run } = findRun(w, ctx);
  return ok(workflowRun(w, repo, run));
};

export const cancelWorkflowRun: Handler = (w, ctx) => {
  const { run } = findRun(w, ctx);
  if (runState(run).status === 'completed') throw new HttpError(409, 'Cannot cancel a workflow run that is completed.');
  run.cancelledAt = Date.now();
  return { status: 202, body: {} };
};
