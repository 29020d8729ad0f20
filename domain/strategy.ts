/**
 * How an ECS service deploys (its deploymentConfiguration, as Slipway reads it before
 * updating) and what that means for the time a deployment may take. Pure: the ECS
 * activities read, this module plans, and the tests check it by table.
 */

export type Strategy = 'ROLLING' | 'BLUE_GREEN' | 'LINEAR' | 'CANARY';
export type StopType = 'ROLLBACK' | 'ABORT';

/** A lifecycle hook of the service. */
export interface HookSetting {
  targetType: 'AWS_LAMBDA' | 'PAUSE';
  /** The Lambda function (absent for PAUSE hooks). */
  targetArn?: string;
  stages: string[];
  timeoutInMinutes?: number;
  timeoutAction?: 'CONTINUE' | 'ROLLBACK';
}

/** What Slipway reads from DescribeServices before it changes anything. */
export interface DeploymentSettings {
  desiredCount: number;
  /** The task definition the service runs now. */
  taskDefinitionArn?: string;
  strategy: Strategy;
  bakeTimeInMinutes: number;
  linear?: { stepPercent: number; stepBakeTimeInMinutes: number };
  canary?: { canaryPercent: number; canaryBakeTimeInMinutes: number };
  hooks: HookSetting[];
  /** CloudWatch alarms ECS watches during the deployment (absent when disabled). */
  alarms?: { names: string[]; rollback: boolean };
  circuitBreaker: { enable: boolean; rollback: boolean };
  /** ROLLING: ECS completes the deployment once this share of the desired tasks is healthy (earlySuccessCriteria). */
  earlySuccess?: { healthyPercent: number; cleanup: 'BLOCKING' | 'DEFERRED' };
}

export interface Budget {
  seconds: number;
  /** "35 min: rollout 15 min + bake time 20 min". */
  breakdown: string;
}

/**
 * The default wait budget of a deployment: the rollout allowance (the configured budget)
 * plus the time ECS itself is told to take — bake time, linear and canary step bake times,
 * and the timeouts of lifecycle hooks (a PAUSE hook waits that long for an answer).
 */
export function deployBudget(s: DeploymentSettings, allowanceSeconds: number): Budget {
  const parts: [string, number][] = [['rollout', allowanceSeconds]];
  if (s.strategy !== 'ROLLING') {
    if (s.bakeTimeInMinutes > 0) parts.push(['bake time', s.bakeTimeInMinutes * 60]);
    if (s.strategy === 'LINEAR' && s.linear && s.linear.stepBakeTimeInMinutes > 0) {
      const steps = Math.ceil(100 / s.linear.stepPercent);
      parts.push([`${steps} linear steps`, steps * s.linear.stepBakeTimeInMinutes * 60]);
    }
    if (s.strategy === 'CANARY' && s.canary && s.canary.canaryBakeTimeInMinutes > 0) {
      parts.push([`canary at ${s.canary.canaryPercent}%`, s.canary.canaryBakeTimeInMinutes * 60]);
    }
  }
  for (const h of s.hooks) {
    if (!h.timeoutInMinutes) continue;
    parts.push([`${hookLabel(h)} hook timeout`, h.timeoutInMinutes * 60 * Math.max(1, h.stages.length)]);
  }
  const seconds = parts.reduce((n, [, v]) => n + v, 0);
  const breakdown = parts.length === 1 ? formatDuration(seconds) : `${formatDuration(seconds)}: ${parts.map(([w, v]) => `${w} ${formatDuration(v)}`).join(' + ')}`;
  return { seconds, breakdown };
}

/** One line about how the service deploys, for `slipway diff` and the deploy's details. */
export function describeSettings(s: DeploymentSettings): string {
  const bits: string[] = [s.strategy];
  if (s.strategy === 'LINEAR' && s.linear) bits.push(`${s.linear.stepPercent}% steps every ${s.linear.stepBakeTimeInMinutes} min`);
  if (s.strategy === 'CANARY' && s.canary) bits.push(`canary ${s.canary.canaryPercent}% for ${s.canary.canaryBakeTimeInMinutes} min`);
  if (s.strategy !== 'ROLLING' && s.bakeTimeInMinutes > 0) bits.push(`bake ${s.bakeTimeInMinutes} min`);
  for (const h of s.hooks) bits.push(`${hookLabel(h)} hook at ${h.stages.join('/')}`);
  if (s.alarms) bits.push(`alarms ${s.alarms.names.join(', ')}${s.alarms.rollback ? ' (rollback)' : ''}`);
  if (s.circuitBreaker.enable) bits.push(`circuit breaker${s.circuitBreaker.rollback ? ' (rollback)' : ''}`);
  if (s.earlySuccess) bits.push(`early success at ${s.earlySuccess.healthyPercent}% healthy (${s.earlySuccess.cleanup.toLowerCase()} cleanup)`);
  return bits.join(', ');
}

export function hookLabel(h: { targetType: string; targetArn?: string }): string {
  return h.targetType === 'PAUSE' ? 'PAUSE' : (h.targetArn?.split(':').pop() ?? 'Lambda');
}

export function formatDuration(seconds: number): string {
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}
