/** The verdict on an ECS deployment, by table: "stable" is never enough. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge, type Observation } from '../domain/outcome';

const OURS = 'arn:aws:ecs:us-east-1:123456789012:task-definition/staging-api:7';
const PREV = 'arn:aws:ecs:us-east-1:123456789012:task-definition/staging-api:6';

const primary = (taskDefinition: string, desired: number, running: number) => ({ taskDefinition, desired, running, pending: 0 });

const table: { name: string; obs: Observation; state: string; reason?: RegExp }[] = [
  { name: 'successful, ours primary, all running', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 2, 2) }, state: 'succeeded' },
  { name: 'successful, more running than desired', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 2, 3) }, state: 'succeeded' },
  { name: 'successful but counts not settled', obs: { serviceDeploymentStatus: 'SUCCESSFUL', primary: primary(OURS, 2, 1) }, state: 'in_progress' },
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
