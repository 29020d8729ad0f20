/**
 * The GitHub Actions gate: a workflow dispatched and waited for (`dispatchGitHubGate`). Its
 * verdict is its result (`ok` when the run concluded `success`); an error means there is no
 * verdict: the gate is misconfigured (non-retryable `BadInput`) or GitHub could not be
 * reached or did not list the run (retryable).
 */
import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Octokit } from '@octokit/rest';
import type { Context } from '@temporalio/activity';
import { BadInput } from '../../domain/errors';
import { rethrowGitHub } from '../github';
import { activityContext, cancellation, contextLog, type GateDeps } from './common';

export interface GitHubGateInput {
  owner: string;
  repo: string;
  /** The workflow's file name (`e2e.yml`) or numeric id. It needs a `workflow_dispatch` trigger. */
  workflow: string;
  /** Branch or tag to run the workflow at. */
  ref: string;
  /** The workflow's `workflow_dispatch` inputs (at most 24: one more is the marker). */
  inputs?: Record<string, string | number | boolean>;
  /** Interval between looks at the run. Default 15 s. */
  pollSeconds?: number;
  /** How long to look for the run a dispatch created before failing (retryably). Default 120 s. */
  findSeconds?: number;
  /**
   * Value of the `slipway-run-id` input that identifies the run (through its `run-name`).
   * Default: derived from the activity, the same for all its attempts.
   */
  marker?: string;
}

export interface GitHubGateResult {
  ok: boolean;
  /** The run's conclusion: `success`, `failure`, `cancelled`, `timed_out`, … */
  conclusion: string;
  runUrl: string;
  runId: number;
  marker: string;
}

/** What `dispatchGitHubGate` heartbeats, and resumes from on a retry. */
export interface GitHubGateProgress {
  marker: string;
  /** A dispatch was being sent (epoch ms): it may or may not have created a run. */
  dispatchingAt?: number;
  /** GitHub accepted the dispatch (its clock when known, epoch ms). */
  dispatchedAt?: number;
  /** False when the workflow refused the marker input: its run is found by time. */
  markerInput?: boolean;
  runId?: number;
  runUrl?: string;
  status?: string;
}

/** A dispatched workflow's run did not show up in time. Retryable: the next attempt looks for it again before dispatching. */
export class GitHubRunNotFound extends Error {
  override name = 'GitHubRunNotFound';
}

/** The input through which a dispatched workflow carries the gate's marker (into its `run-name`). */
export const MARKER_INPUT = 'slipway-run-id';
const MARKER_PREFIX = 'slipway-';

/** The `dispatchGitHubGate` activity. */
export function createGitHubGate(deps: GateDeps) {
  /**
   * Dispatches a GitHub Actions workflow and waits for the run it created: `ok` when it
   * concluded `success`. The run is identified by the `slipway-run-id` input, which the
   * workflow should declare and put in its `run-name`; a workflow without that input is
   * dispatched without it and its run found by time (the newest created after the dispatch).
   * Idempotent across attempts: progress (dispatch time, run id) is heartbeated, and an
   * attempt looks for the run before dispatching. A cancelled activity cancels the run.
   */
  async function dispatchGitHubGate(input: GitHubGateInput): Promise<GitHubGateResult> {
    const client = deps.github;
    if (!client) throw new BadInput('a GitHub gate needs a GitHub token for the worker (with Actions: write on the repository)');
    const problems: string[] = [];
    const name = /^[A-Za-z0-9_.-]+$/;
    if (!name.test(String(input?.owner ?? ''))) problems.push(`owner: not a GitHub account: ${JSON.stringify(input?.owner)}`);
    if (!name.test(String(input?.repo ?? ''))) problems.push(`repo: not a repository name: ${JSON.stringify(input?.repo)}`);
    if (typeof input?.workflow !== 'string' || !/^(?:\d+|[\w.-]+\.ya?ml)$/.test(input.workflow)) {
      problems.push(`workflow: a workflow file name (e2e.yml) or id is required, got ${JSON.stringify(input?.workflow)}`);
    }
    if (typeof input?.ref !== 'string' || !input.ref.trim()) problems.push('ref: a branch or tag is required');
    const inputs = input?.inputs ?? {};
    if (typeof inputs !== 'object' || Array.isArray(inputs)) problems.push('inputs: an object is required');
    else {
      if (MARKER_INPUT in inputs) problems.push(`inputs: ${MARKER_INPUT} is set by the gate`);
      if (Object.keys(inputs).length > 24) problems.push('inputs: at most 24 (GitHub takes 25, one is the marker)');
      for (const [k, v] of Object.entries(inputs)) {
        if (!['string', 'number', 'boolean'].includes(typeof v)) problems.push(`inputs: ${k} must be a string, number or boolean`);
      }
    }
    for (const key of ['pollSeconds', 'findSeconds'] as const) {
      const v = input?.[key];
      if (v !== undefined && !(typeof v === 'number' && v > 0)) problems.push(`${key}: a positive number is required, got ${JSON.stringify(v)}`);
    }
    if (input?.marker !== undefined && !/^[\w.-]{1,100}$/.test(input.marker)) problems.push('marker: letters, digits, `_`, `.` and `-` only');
    if (problems.length) throw new BadInput(`invalid GitHub gate: ${problems.join('; ')}`, problems);

    const github: Octokit = client;
    const { owner, repo, workflow, ref } = input;
    const ctx = activityContext();
    const log = deps.log ?? contextLog(ctx);
    const signal = ctx?.cancellationSignal;
    const pollMs = (input.pollSeconds ?? 15) * 1000;
    const findMs = (input.findSeconds ?? 120) * 1000;
    const where = `${workflow} in ${owner}/${repo}`;
    const tokenNeeds = 'the repo and workflow scopes (classic token) or Actions: write (fine-grained token)';
    const notFound = `GitHub workflow ${where} was not found, or GITHUB_TOKEN cannot see it`;

    const saved = (ctx?.info.heartbeatDetails ?? undefined) as GitHubGateProgress | undefined;
    const marker = input.marker ?? saved?.marker ?? derivedMarker(ctx);
    const progress: GitHubGateProgress = { ...saved, marker };
    const beat = () => ctx?.heartbeat({ ...progress });

    const wait = async (ms: number) => {
      try {
        await sleep(ms, undefined, signal ? { signal } : undefined);
      } catch (err) {
        if (signal?.aborted) throw cancellation(signal);
        throw err;
      }
    };
    const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        if (signal?.aborted) throw cancellation(signal);
        rethrowGitHub(err, what, { notFound, tokenNeeds });
      }
    };

    type Run = { id: number; display_title?: string; name?: string | null; created_at: string; html_url: string; status: string | null; conclusion: string | null };
    const carries = (run: Run, m: string) => (run.display_title ?? '').includes(m) || (run.name ?? '').includes(m);
    /** Runs of the workflow dispatched since `since`, newest first. */
    const recentRuns = async (since: number): Promise<Run[]> => {
      const res = await call(`listing the runs of ${where}`, () =>
        github.rest.actions.listWorkflowRuns({
          owner,
          repo,
          workflow_id: workflow,
          event: 'workflow_dispatch',
          created: `>=${new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
          per_page: 100,
          request: { signal },
        }),
      );
      return res.data.workflow_runs as Run[];
    };
    /** The run this gate dispatched: by its marker, else (when allowed) the newest not carrying another gate's marker. */
    const pick = (runs: Run[], byTime: boolean): Run | undefined => {
      const mine = runs.find((r) => carries(r, marker));
      if (mine || !byTime) return mine;
      return runs.find((r) => !carries(r, MARKER_PREFIX));
    };

    let runId = saved?.runId;
    if (runId === undefined) {
      // An earlier attempt may have dispatched already: look before dispatching again.
      const sent = saved?.dispatchedAt ?? saved?.dispatchingAt;
      const since = (sent ?? Date.now() - 86_400_000) - 60_000;
      const earlier = pick(await recentRuns(since), sent !== undefined && saved?.markerInput === false);
      if (earlier) {
        runId = earlier.id;
        log.info(`found run ${earlier.html_url} of ${where} dispatched by an earlier attempt; not dispatching again`, { runId, marker });
      } else if (saved?.dispatchedAt !== undefined) {
        // Accepted, but not listed yet.
        runId = await findRun(saved.dispatchedAt, saved.markerInput === false);
      }
    }
    if (runId === undefined) runId = await dispatch();
    progress.runId = runId;
    beat();

    async function dispatch(): Promise<number> {
      const send = async (withMarker: boolean) => {
        progress.dispatchingAt = Date.now();
        progress.markerInput = withMarker;
        beat();
        const body = { ref, inputs: withMarker ? { ...stringInputs(inputs), [MARKER_INPUT]: marker } : stringInputs(inputs), return_run_details: true };
        return github.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
          owner,
          repo,
          workflow_id: workflow,
          ...body,
          request: { signal },
        } as Parameters<typeof github.rest.actions.createWorkflowDispatch>[0]);
      };
      const what = `dispatching ${where} at ${ref}`;
      let res: Awaited<ReturnType<typeof send>>;
      try {
        res = await send(true);
      } catch (err) {
        const e = err as { status?: number; message?: string; response?: { data?: { message?: string } } };
        const message = String(e.response?.data?.message ?? e.message ?? '');
        if (e.status !== 422 || !/Unexpected inputs/i.test(message) || !message.includes(MARKER_INPUT)) {
          if (signal?.aborted) throw cancellation(signal);
          rethrowGitHub(err, what, { notFound, tokenNeeds });
        }
        log.warn(
          `${where} does not declare the '${MARKER_INPUT}' input: dispatching without it and taking the newest run after the dispatch. ` +
            `Declare the input and put it in the workflow's run-name so that the run is identified for sure.`,
        );
        res = await call(what, () => send(false));
      }
      // GitHub's clock stamps the run; prefer it to ours for matching.
      const serverDate = Date.parse(String(res.headers.date ?? ''));
      progress.dispatchedAt = Number.isNaN(serverDate) ? progress.dispatchingAt! : Math.min(progress.dispatchingAt!, serverDate);
      beat();
      const details = res.data as { workflow_run_id?: number } | undefined;
      if ((res.status as number) === 200 && typeof details?.workflow_run_id === 'number') {
        log.info(`dispatched ${where} at ${ref}: run ${details.workflow_run_id}`, { runId: details.workflow_run_id, marker });
        return details.workflow_run_id;
      }
      log.info(`dispatched ${where} at ${ref}; looking for its run`, { marker });
      return findRun(progress.dispatchedAt!, progress.markerInput === false);
    }

    async function findRun(dispatchedAt: number, byTimeOnly: boolean): Promise<number> {
      const deadline = Date.now() + findMs;
      // Runs are listed with a lag of seconds. A workflow whose run-name leaves out the marker
      // is only matched by time once ours should have been listed, so that another run
      // (a person's) listed first is not taken for it.
      const byTimeFrom = Date.now() + Math.min(findMs / 2, 30_000);
      for (;;) {
        beat();
        const runs = await recentRuns(dispatchedAt - 5000);
        const run = pick(runs, byTimeOnly || Date.now() >= byTimeFrom);
        if (run) {
          if (!carries(run, marker)) {
            log.warn(`the run of ${where} does not carry the marker ${marker} in its title; taking the newest run after the dispatch: ${run.html_url}`);
          }
          return run.id;
        }
        if (Date.now() >= deadline) {
          throw new GitHubRunNotFound(`dispatched ${where} at ${ref}, but no run of it appeared within ${findMs / 1000}s (marker ${marker})`);
        }
        await wait(Math.min(pollMs, 5000));
      }
    }

    // Wait for the run to complete.
    for (;;) {
      let run: Run;
      try {
        run = (await call(`reading run ${runId} of ${where}`, () => github.rest.actions.getWorkflowRun({ owner, repo, run_id: runId!, request: { signal } }))).data as Run;
      } catch (err) {
        if (signal?.aborted) await cancelRun(runId);
        throw err;
      }
      progress.runUrl = run.html_url;
      if (run.status !== progress.status) log.info(`run ${run.html_url} of ${where} is ${run.status}`, { runId, status: run.status });
      progress.status = run.status ?? undefined;
      beat();
      if (run.status === 'completed') {
        const conclusion = run.conclusion ?? 'unknown';
        log.info(`run ${run.html_url} of ${where} concluded ${conclusion}`, { runId, conclusion });
        return { ok: conclusion === 'success', conclusion, runUrl: run.html_url, runId, marker };
      }
      try {
        await wait(pollMs);
      } catch (err) {
        await cancelRun(runId);
        throw err;
      }
    }

    /** Best effort: the gate is no longer waited for, so its run need not go on. */
    async function cancelRun(id: number): Promise<void> {
      try {
        await github.rest.actions.cancelWorkflowRun({ owner, repo, run_id: id });
        log.info(`cancelled run ${id} of ${where}`, { runId: id });
      } catch (err) {
        log.warn(`could not cancel run ${id} of ${where}: ${(err as Error).message}`, { runId: id });
      }
    }
  }

  return dispatchGitHubGate;
}

/** GitHub takes workflow inputs as strings. */
function stringInputs(inputs: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)]));
}

/** `slipway-<12 hex>`: the same for every attempt of one activity, different for any other. */
function derivedMarker(ctx: Context | undefined): string {
  const seed = ctx ? `${ctx.info.workflowNamespace}/${ctx.info.workflowExecution?.workflowId}/${ctx.info.workflowExecution?.runId}/${ctx.info.activityId}` : randomUUID();
  return `${MARKER_PREFIX}${createHash('sha1').update(seed).digest('hex').slice(0, 12)}`;
}
