/** Workflow IDs, the default task queue and the one-line summary of a deploy. */
import type { DeployInput } from './types';

export const DEFAULT_TASK_QUEUE = 'slipway';

/** Workflow ID of a deploy: one deployment per service at a time. */
export function deployWorkflowId(app: string, env: string): string {
  return `deploy/${app}/${env}`;
}

/** Workflow ID prefix for the one-line summary shown in the Temporal UI. */
export function deploySummary(input: Pick<DeployInput, 'app' | 'env' | 'tag' | 'actor'>, shortTag: (t: string) => string): string {
  return `deploy ${input.app} ${shortTag(input.tag)} → ${input.env} by @${input.actor}`;
}

export function recordWorkflowId(app: string, env: string): string {
  return `record/${app}/${env}`;
}

export function rollbackWorkflowId(app: string, env: string): string {
  return `rollback/${app}/${env}`;
}

export function redeployWorkflowId(app: string, env: string): string {
  return `redeploy/${app}/${env}`;
}

export function releaseWorkflowId(app: string, tag: string): string {
  return `release/${app}/${tag}`;
}

export function pipelineWorkflowId(app: string): string {
  return `pipeline/${app}`;
}
