/**
 * The truth about an ECS deployment, decided from what ECS reports. Pure: the ECS
 * activities observe, this module judges, and the tests check it by table.
 *
 * "Services stable" is not success: it also holds after a circuit-breaker rollback and at
 * 0 of 0 tasks. Success is: the service deployment that our UpdateService started is
 * SUCCESSFUL, and the PRIMARY deployment runs our task definition with
 * running ≥ desired > 0.
 */

/** A snapshot of the service as the wait loop sees it. */
export interface Observation {
  /** Status of our service deployment (DescribeServiceDeployments). */
  serviceDeploymentStatus: string;
  serviceDeploymentStatusReason?: string;
  rollbackReason?: string;
  /** The PRIMARY deployment of the service (DescribeServices). */
  primary?: { taskDefinition: string; desired: number; running: number; pending: number; rolloutState?: string };
  /** Our deployment in DescribeServices (absent once ECS dropped it). */
  ours?: { desired: number; running: number; pending: number; failed: number; rolloutState?: string; rolloutStateReason?: string };
  /** CloudWatch alarms ECS saw in ALARM during our deployment. */
  triggeredAlarmNames?: string[];
  /** Lifecycle hooks of our deployment: who (Lambda name or PAUSE) and how they ended. */
  hooks?: { name: string; status: string }[];
  /**
   * ROLLING with ECS's early success criteria: ECS completes the deployment once this share
   * (percent) of the desired tasks is healthy, and so does the verdict.
   */
  earlySuccessPercent?: number;
}

export type Verdict =
  | { state: 'in_progress'; rollingBack: boolean }
  | { state: 'succeeded' }
  | { state: 'rolled_back_by_ecs'; reason: string }
  | { state: 'rolled_back_by_alarm'; reason: string; alarms: string[] }
  | { state: 'failed'; reason: string };

const ROLLING_BACK = new Set(['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS']);

export function judge(obs: Observation, ourTaskDefinition: string): Verdict {
  const status = obs.serviceDeploymentStatus;
  switch (status) {
    case 'SUCCESSFUL': {
      const p = obs.primary;
      if (!p) return { state: 'failed', reason: 'ECS reports the deployment successful but the service has no PRIMARY deployment' };
      if (p.taskDefinition !== ourTaskDefinition) {
        return { state: 'failed', reason: `ECS reports the deployment successful but the service runs ${revisionOf(p.taskDefinition)}, not ${revisionOf(ourTaskDefinition)}` };
      }
      if (p.desired <= 0) return { state: 'failed', reason: 'the service has 0 desired tasks: nothing runs the new revision' };
      // ECS can flip the status a moment before the counts settle; wait for the counts
      // (with early success criteria, for the share of them that ECS waited for).
      const needed = obs.earlySuccessPercent !== undefined ? Math.max(1, Math.ceil((p.desired * obs.earlySuccessPercent) / 100)) : p.desired;
      if (p.running < needed) return { state: 'in_progress', rollingBack: false };
      return { state: 'succeeded' };
    }
    case 'ROLLBACK_SUCCESSFUL': {
      const alarms = obs.triggeredAlarmNames ?? [];
      if (alarms.length) {
        return { state: 'rolled_back_by_alarm', alarms, reason: `CloudWatch alarm${alarms.length > 1 ? 's' : ''} ${alarms.join(', ')} in ALARM` };
      }
      let reason = obs.rollbackReason ?? obs.serviceDeploymentStatusReason ?? 'ECS rolled the deployment back';
      // A hook that failed or timed out is named, whatever the reason's wording.
      for (const h of obs.hooks ?? []) {
        if ((h.status === 'FAILED' || h.status === 'TIMED_OUT') && !reason.includes(h.name)) reason += `; lifecycle hook ${h.name} ${h.status.toLowerCase().replace('_', ' ')}`;
      }
      return { state: 'rolled_back_by_ecs', reason };
    }
    case 'ROLLBACK_FAILED':
      return { state: 'failed', reason: `ECS tried to roll back and failed: ${obs.serviceDeploymentStatusReason ?? 'no reason given'}` };
    case 'STOPPED':
    case 'STOP_REQUESTED':
      return { state: 'failed', reason: `the ECS deployment was stopped: ${obs.serviceDeploymentStatusReason ?? 'no reason given'}` };
    default:
      if (ROLLING_BACK.has(status)) return { state: 'in_progress', rollingBack: true };
      return { state: 'in_progress', rollingBack: false };
  }
}

/** `arn:…:task-definition/staging-api:42` → `staging-api:42`. */
export function revisionOf(taskDefinitionArn: string): string {
  const i = taskDefinitionArn.lastIndexOf('/');
  return i >= 0 ? taskDefinitionArn.slice(i + 1) : taskDefinitionArn;
}
