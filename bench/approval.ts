/**
 * Benchmark 6: approval → production. How soon after a maintainer's approval production's
 * ECS service receives UpdateService. Slipway: the pipeline of `api` (worker process with
 * default settings, GitHub writes paced one second apart as GitHub asks), the approval an
 * Update; its candidate is deployed to staging and verified first, then approved, and the
 * figure runs from the Update being accepted to production's UpdateService. Peer: a
 * "check for approval" loop polling every 15 s (a CI job that asks GitHub whether the
 * deployment was approved: the newest status of a GitHub deployment), then registering
 * and updating through the SDK.
 */
import { WorkflowUpdateStage } from '@temporalio/client';
import { createGitHubClient } from '../activities/github';
import { reportMerge } from '../client/operations';
import { resolveTarget, type SlipwayConfig } from '../domain/config';
import { approveUpdate, pipelineStateQuery, pipelineWorkflowId, type PipelineState } from '../contract';
import { median, p90, fmtMs, row, type Table } from './stats';
import { registerAndUpdate, waitForCall, type BenchService, type BenchStack, type WorkerProcess } from './stack';

const APP = 'api';
const OWNER = 'WordPress';
const REPO = 'openverse';
export const POLL_MS = 15_000;

export function approvalServices(runs: number): BenchService[] {
  return Array.from({ length: runs }, (_, i) => ({ name: `apr-peer-${i}`, env: 'production' as const }));
}

/** The config of the benchmark: the Openverse apps with the pipeline of `api` (no gate, one approval), plus the peer's services. */
export function approvalConfig(raw: any): void {
  raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 1 };
  raw.apps[APP].pipeline = { policy: 'latest', approvals: 1, allowSelfApproval: false, approvalDeadlineHours: 72 };
}

export interface ApprovalResult {
  /** Update accepted (answered to the client) → production's UpdateService, per approval. */
  slipway: number[];
  /** Update sent → production's UpdateService. */
  slipwaySent: number[];
  /** Approval recorded on GitHub → the peer's UpdateService. */
  peer: number[];
}

async function pipelineState(stack: BenchStack, what: string, pred: (s: PipelineState) => boolean, timeoutMs = 120_000): Promise<PipelineState> {
  const handle = stack.client.workflow.getHandle(pipelineWorkflowId(APP));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await handle.query(pipelineStateQuery).catch(() => undefined);
    if (s && pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`approval benchmark: timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One pipeline cycle: merge, staging, approval (measured), production, released. */
async function slipwayApproval(stack: BenchStack, config: SlipwayConfig, taskQueue: string, i: number): Promise<{ accepted: number; sent: number }> {
  const sha = stack.world.github.addCommit(OWNER, REPO, { message: `Benchmark change ${i}` });
  await stack.world.pushTags(sha);
  await reportMerge(stack.client, APP, { sha, actor: 'dhruv', title: `Benchmark change ${i}` }, { taskQueue });
  await pipelineState(stack, `${sha} awaiting approval`, (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === sha);
  const production = resolveTarget(config, APP, 'production');
  const from = stack.ecs.calls.length;
  const handle = stack.client.workflow.getHandle(pipelineWorkflowId(APP));
  const sentAt = Date.now();
  await handle.startUpdate(approveUpdate, { args: [{ tag: sha, approver: 'alice' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
  const acceptedAt = Date.now();
  const update = await waitForCall(
    stack.ecs,
    (c) =>
      c.op === 'UpdateService' &&
      String((c.input as { service?: string }).service)
        .split('/')
        .pop() === production.service,
    from,
  );
  await pipelineState(stack, `${sha} released`, (s) => s.lastValidated === sha);
  return { accepted: update.at - acceptedAt, sent: update.at - sentAt };
}

/**
 * The peer: one loop, polling every 15 s, over one GitHub deployment per run; the approvals
 * fall evenly over one poll period, so they meet every phase of the loop.
 */
async function peerApprovals(stack: BenchStack, config: SlipwayConfig, runs: number, tag: string): Promise<number[]> {
  const github = createGitHubClient({ token: stack.world.workerEnv.GITHUB_TOKEN, baseUrl: stack.world.github.url, log: { debug() {}, info() {}, warn() {}, error() {} } });
  const sha = stack.world.github.addCommit(OWNER, REPO, { message: 'Benchmark: the peer deploys this' });
  const runsOf = await Promise.all(
    Array.from({ length: runs }, async (_, i) => {
      const d = await github.rest.repos.createDeployment({ owner: OWNER, repo: REPO, ref: sha, environment: `apr-peer-${i}`, auto_merge: false, required_contexts: [] });
      return { i, service: `apr-peer-${i}`, deploymentId: (d.data as { id: number }).id, approvedAt: 0, updatedAt: 0 };
    }),
  );
  let done = 0;
  const loop = (async () => {
    while (done < runs) {
      const tick = Date.now();
      const pending = runsOf.filter((r) => !r.updatedAt);
      await Promise.all(
        pending.map(async (r) => {
          const statuses = await github.rest.repos.listDeploymentStatuses({ owner: OWNER, repo: REPO, deployment_id: r.deploymentId, per_page: 1 });
          if (statuses.data[0]?.state !== 'success') return;
          const from = stack.ecs.calls.length;
          await registerAndUpdate(stack.sdk, stack.target(config, r.service), tag);
          const call = await waitForCall(
            stack.ecs,
            (c) =>
              c.op === 'UpdateService' &&
              String((c.input as { service?: string }).service)
                .split('/')
                .pop() === r.service,
            from,
          );
          r.updatedAt = call.at;
          done++;
        }),
      );
      await new Promise((res) => setTimeout(res, Math.max(0, POLL_MS - (Date.now() - tick))));
    }
  })();
  const start = Date.now();
  for (const r of runsOf) {
    const at = start + ((r.i + 0.5) / runs) * POLL_MS;
    await new Promise((res) => setTimeout(res, Math.max(0, at - Date.now())));
    await github.rest.repos.createDeploymentStatus({ owner: OWNER, repo: REPO, deployment_id: r.deploymentId, state: 'success', description: 'approved by @alice' });
    r.approvedAt = Date.now();
  }
  await loop;
  return runsOf.map((r) => r.updatedAt - r.approvedAt);
}

export async function runApproval(
  stack: BenchStack,
  cfg: { path: string; config: SlipwayConfig },
  worker: WorkerProcess,
  runs: number,
  tag: string,
  log: (s: string) => void,
): Promise<ApprovalResult> {
  const out: ApprovalResult = { slipway: [], slipwaySent: [], peer: [] };
  // Run 0 is a warm-up (the pipeline and record workflows start, caches fill), not counted.
  for (let i = 0; i <= runs; i++) {
    const r = await slipwayApproval(stack, cfg.config, worker.taskQueue, i);
    if (i > 0) {
      out.slipway.push(r.accepted);
      out.slipwaySent.push(r.sent);
    }
    log(`approval ${i === 0 ? 'warm-up' : `${i}/${runs}`}: accepted → production UpdateService ${fmtMs(r.accepted)}`);
  }
  log(`approval: the peer's ${runs} approvals, one poll loop every ${POLL_MS / 1000} s`);
  out.peer = await peerApprovals(stack, cfg.config, runs, tag);
  return out;
}

export function approvalTable(r: ApprovalResult): Table {
  return {
    title: '6. Approval → production: approval accepted → production receives UpdateService',
    peerName: `"check for approval" loop, ${POLL_MS / 1000} s poll`,
    rows: [
      row('approval → UpdateService, median', median(r.slipway), median(r.peer), fmtMs),
      row('approval → UpdateService, p90', p90(r.slipway), p90(r.peer), fmtMs),
      row('approval sent (Update round trip included) → UpdateService, median', median(r.slipwaySent), median(r.peer), fmtMs),
      row('approval sent (Update round trip included) → UpdateService, p90', p90(r.slipwaySent), p90(r.peer), fmtMs),
    ],
    notes: [
      `${r.slipway.length} approvals per side (Slipway after one warm-up cycle). Goal: median under 1 s.`,
      "Slipway: the pipeline of api on a worker process with default settings (GitHub writes paced 1 s apart); each cycle merges a commit, deploys it to staging and verifies it, then `alice` approves it with the approve Update. Measured from the Update accepted (its answer at the client) to production's UpdateService at the ECS sandbox: the approver's authorisation, staging's reported tag, then the production deploy's preflight, render and register. The release's GitHub writes (tag, release, aliases, changelog pull request) run alongside.",
      "Peer: one loop that asks GitHub every 15 s for the newest status of each run's deployment and, once it reads `success` (the approval), registers and updates through the SDK; approvals fall evenly over one poll period.",
    ],
  };
}
