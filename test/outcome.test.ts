/** The verdict on an ECS deployment, by table: "stable" is never enough. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, type Observation } from '../domain/outcome';
import { deployBudget, type DeploymentSettings } from '../domain/strategy';

const OURS = 'arn:aws:ecs:us-east-1:123456789012:task-definition/staging-api:7';
const PREV = 'arn:aws:ecs:us-east-1:123456789012:task-definition/staging-api:6';

const primary = (taskDefinition: string, desired: number, running: number) => ({ taskDefinition, desired, running, pending: 0 });

const table: { name: string; obs: Observation; state: string; reason?: RegExp }[] = [
  { name: 'successful, ours primary, all running', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 2, 2) }, state: 'succeeded' },
  { name: 'successful, more running than desired', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 2, 3) }, state: 'succeeded' },
  { name: 'successful but counts not settled', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 2, 1) }, state: 'in_progress' },
  {
    name: 'early success: ECS completed at 50% healthy',
    obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 4, 2), earlySuccessPercent: 50 },
    state: 'succeeded',
  },
  {
    name: 'early success: short of the share ECS waits for',
    obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 4, 1), earlySuccessPercent: 50 },
    state: 'in_progress',
  },
  { name: 'early success at 0%: still one task', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 4, 0), earlySuccessPercent: 0 }, state: 'in_progress' },
  { name: 'successful at 0 of 0 tasks', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 0, 0) }, state: 'failed', reason: /0 desired/ },
  { name: 'successful but another revision is primary', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(PREV, 1, 1) }, state: 'failed', reason: /staging-api:6/ },
  { name: 'successful without a primary', obs: { serviceDeploymentStatus: 'SUCCESSFUL' }, state: 'failed', reason: /no PRIMARY/ },
  { name: 'in progress', obs: { serviceDeploymentStatus: 'IN_PROGRESS', primary: primary(OURS, 1, 0) }, state: 'in_progress' },
  { name: 'pending', obs: { serviceDeploymentStatus: 'PENDING' }, state: 'in_progress' },
  { name: 'rolling back', obs: { serviceDeploymentStatus: 'ROLLBACK_IN_PROGRESS', primary: primary(PREV, 1, 1) }, state: 'in_progress' },
  {
    name: 'rolled back: stable, previous revision, never success',
    obs: { serviceDeploymentStatus: 'ROLLBACK_SUCCESSFUL', rollbackReason: 'circuit breaker threshold exceeded', primary: primary(PREV, 1, 1) },
    state: 'rolled_back_by_ecs',
    reason: /circuit breaker/,
  },
  {
    name: 'rolled back because an alarm fired: its own outcome, naming the alarm',
    obs: { serviceDeploymentStatus: 'ROLLBACK_SUCCESSFUL', rollbackReason: 'alarms were triggered', triggeredAlarmNames: ['api-5xx'], primary: primary(PREV, 1, 1) },
    state: 'rolled_back_by_alarm',
    reason: /CloudWatch alarm api-5xx in ALARM/,
  },
  {
    name: 'rolled back by a hook: the hook is named even when the reason does not',
    obs: { serviceDeploymentStatus: 'ROLLBACK_SUCCESSFUL', rollbackReason: 'rolled back', hooks: [{ name: 'smoke-test', status: 'TIMED_OUT' }], primary: primary(PREV, 1, 1) },
    state: 'rolled_back_by_ecs',
    reason: /lifecycle hook smoke-test timed out/,
  },
  { name: 'rollback failed', obs: { serviceDeploymentStatus: 'ROLLBACK_FAILED', serviceDeploymentStatusReason: 'no capacity' }, state: 'failed', reason: /no capacity/ },
  { name: 'stopped (superseded)', obs: { serviceDeploymentStatus: 'STOPPED', serviceDeploymentStatusReason: 'superseded' }, state: 'failed', reason: /stopped: superseded/ },
];

describe('judge', () => {
  for (const row of table) {
    it(row.name, () => {
      const v = judge(row.obs, OURS);
      assert.equal(v.state, row.state);
      if (row.reason) assert.match((v as { reason: string }).reason, row.reason);
    });
  }
  it('marks a rollback in progress as rolling back', () => {
    const v = judge({ serviceDeploymentStatus: 'ROLLBACK_REQUESTED' }, OURS);
    assert.deepEqual(v, { state: 'in_progress', rollingBack: true });
  });
});

describe('deployBudget', () => {
  const base: DeploymentSettings = { desiredCount: 2, strategy: 'ROLLING', bakeTimeInMinutes: 0, hooks: [], circuitBreaker: { enable: true, rollback: true } };
  const rows: { name: string; s: DeploymentSettings; seconds: number; breakdown: string }[] = [
    { name: 'rolling: the allowance alone', s: base, seconds: 900, breakdown: '15 min' },
    {
      name: 'blue/green: plus the bake time',
      s: { ...base, strategy: 'BLUE_GREEN', bakeTimeInMinutes: 20 },
      seconds: 2100,
      breakdown: '35 min: rollout 15 min + bake time 20 min',
    },
    {
      name: 'linear: plus every step bake',
      s: { ...base, strategy: 'LINEAR', bakeTimeInMinutes: 5, linear: { stepPercent: 25, stepBakeTimeInMinutes: 2 } },
      seconds: 900 + 300 + 480,
      breakdown: '28 min: rollout 15 min + bake time 5 min + 4 linear steps 8 min',
    },
    {
      name: 'canary and a PAUSE hook with a timeout',
      s: {
        ...base,
        strategy: 'CANARY',
        canary: { canaryPercent: 10, canaryBakeTimeInMinutes: 10 },
        hooks: [{ targetType: 'PAUSE', stages: ['POST_TEST_TRAFFIC_SHIFT'], timeoutInMinutes: 30 }],
      },
      seconds: 900 + 600 + 1800,
      breakdown: '55 min: rollout 15 min + canary at 10% 10 min + PAUSE hook timeout 30 min',
    },
    { name: 'bake time does not apply to rolling', s: { ...base, bakeTimeInMinutes: 30 }, seconds: 900, breakdown: '15 min' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(deployBudget(row.s, 900), { seconds: row.seconds, breakdown: row.breakdown });
    });
  }
});
