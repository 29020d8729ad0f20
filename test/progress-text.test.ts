/**
 * Typed progress events in words: one example per code, so every code has its sentence and
 * the sentences people (and GitHub Actions logs) read stay as they were.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProgressCode, ProgressData, ProgressEvent } from '../contract';
import { progressText } from '../domain/progress-text';

const SHA = 'a'.repeat(40);
const at = '2026-12-07T10:00:00.000Z';

const EXAMPLES: { [C in ProgressCode]: [ProgressData[C], string] } = {
  'operation.requested': [{ operation: 'deploy', app: 'api', env: 'staging', tag: SHA, actor: 'alice', reason: 'hotfix' }, 'deploy api aaaaaaa → staging by @alice (hotfix)'],
  'identity.proven': [
    { actor: 'alice', workflowRef: 'o/r/.github/workflows/p.yml@refs/heads/main', runId: '7' },
    '@alice proven by a GitHub Actions ID token (workflow o/r/.github/workflows/p.yml@refs/heads/main, run 7)',
  ],
  'actor.authorised': [{ actor: 'alice', via: 'team', team: 'WordPress/openverse-maintainers' }, '@alice is authorised (member of WordPress/openverse-maintainers)'],
  'images.found': [{ tag: SHA, images: ['openverse-api', 'openverse-api_nginx'] }, "'aaaaaaa' exists for every image: openverse-api, openverse-api_nginx"],
  'service.strategy': [{ service: 'staging-api', strategy: 'ROLLING (circuit breaker with rollback)' }, 'staging-api deploys ROLLING (circuit breaker with rollback)'],
  'revision.repointing': [{ revision: 'staging-api:4', tag: SHA }, 're-pointing the service at staging-api:4, the revision validated with aaaaaaa (no render, no registration)'],
  'revision.rendering': [{ templateFamily: 'staging-api-template', family: 'staging-api', tag: SHA }, 'rendering staging-api-template with aaaaaaa and registering staging-api'],
  'revision.registered': [{ revision: 'staging-api:5', reused: true, images: ['r/api:x'] }, 'registered staging-api:5 (found from an earlier attempt): r/api:x'],
  'service.updating': [{ cluster: 'staging', service: 'staging-api' }, 'updating service staging/staging-api'],
  'ecs.waiting': [{ budget: '15 min' }, 'waiting for ECS (budget 15 min)'],
  'ecs.status': [{ status: 'ROLLBACK_IN_PROGRESS' }, 'ECS deployment rollback in progress'],
  'ecs.tasks': [{ counts: { desired: 2, running: 1, pending: 1, failed: 0 } }, 'tasks: 1/2 running, 1 pending, 0 failed'],
  'ecs.stage': [{ stage: 'BAKE_TIME' }, 'ECS stage: BAKE_TIME'],
  'ecs.traffic': [{ tag: SHA, production: 25, test: 100 }, 'traffic on aaaaaaa: production 25%, test 100%'],
  'ecs.traffic-shifted': [{ at }, `production traffic shifted at ${at}`],
  'ecs.hook': [
    { name: 'gate', status: 'AWAITING_ACTION', stage: 'POST_TEST_TRAFFIC_SHIFT' },
    'ECS holds the deployment at a gate lifecycle hook (POST_TEST_TRAFFIC_SHIFT) until ContinueServiceDeployment answers it',
  ],
  'ecs.event': [{ message: '(service staging-api) has reached a steady state.' }, 'ECS: (service staging-api) has reached a steady state.'],
  'ecs.notified': [
    { name: 'SERVICE_DEPLOYMENT_COMPLETED', reason: 'ECS deployment ecs-svc/123 completed.' },
    'ECS event SERVICE_DEPLOYMENT_COMPLETED: ECS deployment ecs-svc/123 completed.',
  ],
  'ecs.task-stopped': [{ reason: 'task 1a2b: Essential container exited' }, 'stopped: task 1a2b: Essential container exited'],
  'ecs.rolling-back': [{}, 'ECS is rolling the deployment back'],
  'ecs.stopped': [{ stopType: 'ABORT' }, 'stopped the ECS deployment (ABORT): ECS stops it where it is'],
  'verify.checking': [{ url: 'https://api.example/version', tag: SHA }, "checking https://api.example/version reports 'aaaaaaa'"],
  'verify.reported': [{ url: 'https://api.example/version', release: SHA }, "https://api.example/version reports 'aaaaaaa'"],
  'deploy.succeeded': [{ service: 'staging-api', revision: 'staging-api:5', running: 2, desired: 2 }, 'succeeded: staging-api runs staging-api:5 (2/2 tasks)'],
  'rollback.target': [
    { tag: SHA, running: 'b'.repeat(40), validatedAt: at, validatedBy: 'alice' },
    `target: aaaaaaa, the last validated release before bbbbbbb (running now), validated ${at} by @alice`,
  ],
  'rollback.preempted': [{ tag: 'c'.repeat(40), runId: 'r-1' }, 'cancelled the deploy in flight (ccccccc, run r-1)'],
  'redeploy.reported': [{ url: 'https://api.example/version', release: SHA }, "https://api.example/version reports 'aaaaaaa': deploying it again from the current template"],
  'operation.succeeded': [{ env: 'production', tag: SHA }, 'succeeded: production runs aaaaaaa'],
  'release.failed-before': [
    { name: 'api-2026.12.07.10.00.00', url: 'https://github.com/o/r/releases/1' },
    'api-2026.12.07.10.00.00 already released this image and is marked failed: https://github.com/o/r/releases/1',
  ],
  'release.picked-up': [{ name: 'api-2026.12.07.10.00.00' }, 'api-2026.12.07.10.00.00 already released this image: picking it up'],
  'release.written': [
    { name: 'api-2026.12.07.10.00.00', url: 'https://github.com/o/r/releases/2', created: true, pulls: 3, previous: 'api-2026.12.01.09.00.00' },
    'created api-2026.12.07.10.00.00: https://github.com/o/r/releases/2 (3 pull requests since api-2026.12.01.09.00.00)',
  ],
  'release.aliased': [{ images: 2, alias: 'rel-2026.12.07.10.00.00' }, 'tagged 2 image(s) rel-2026.12.07.10.00.00'],
  'release.production-by-caller': [{ env: 'production' }, 'production is deployed by the caller, alongside this release'],
  'release.nothing-to-deploy': [{ env: 'production', tag: SHA }, 'production already runs aaaaaaa: nothing to deploy'],
  'release.release-only': [{ app: 'ingestion_server' }, 'ingestion_server is release-only: its images are tagged; it is deployed elsewhere'],
  'release.deployed': [{ env: 'production', tag: SHA }, 'production runs aaaaaaa'],
  'release.changelog': [
    { path: 'documentation/changelogs/api/2026.12.07.10.00.00.md', url: 'https://github.com/o/r/pull/9' },
    'changelog documentation/changelogs/api/2026.12.07.10.00.00.md: https://github.com/o/r/pull/9',
  ],
  'operation.ended': [{ outcome: 'timed_out', message: 'timed out: ECS had not finished' }, 'timed out: ECS had not finished'],
  'notification.unsent': [{ message: 'notification not sent (slack): 500' }, 'notification not sent (slack): 500'],
  'rollback.already-running': [
    {
      app: 'api',
      env: 'production',
      tag: SHA,
      since: at,
      service: 'production-api',
      revision: 'production-api:4',
      validatedAt: at,
      validatedBy: 'alice',
      afterTag: 'b'.repeat(40),
      afterOutcome: 'rolled_back_by_ecs',
    },
    `production already runs the last validated release ${SHA} (since ${at}): the deploy of bbbbbbb after it ended rolled back by ecs, and production-api runs production-api:4 again (validated ${at} by @alice). Nothing was changed. To go further back, name the tag: slipway rollback api production --tag <tag>`,
  ],
  'rollback.ecs-rolled-back': [
    { service: 'production-api', revision: 'production-api:4', tag: SHA },
    'stopped the deploy in flight with StopServiceDeployment ROLLBACK: ECS rolled production-api back to production-api:4, the revision validated with aaaaaaa (nothing registered or re-pointed)',
  ],
  'rollback.ecs-elsewhere': [
    { expected: 'production-api:4', rolledBackTo: 'production-api:3', status: 'ROLLBACK_SUCCESSFUL' },
    'ECS rolls the stopped deployment back to production-api:3 (rollback successful), not to production-api:4: re-pointing the service instead',
  ],
  'rollback.repointed': [
    { service: 'production-api', revision: 'production-api:4', tag: SHA },
    're-pointed production-api at production-api:4, the revision validated with aaaaaaa',
  ],
  'gate.unhooked': [
    { env: 'production', service: 'production-api', stage: 'POST_TEST_TRAFFIC_SHIFT' },
    'testTraffic is configured for production, but production-api has no PAUSE lifecycle hook at POST_TEST_TRAFFIC_SHIFT: the checks on test traffic do not run',
  ],
  'gate.started': [
    { tag: SHA, stage: 'POST_TEST_TRAFFIC_SHIFT' },
    'ECS holds aaaaaaa on test traffic (PAUSE hook at POST_TEST_TRAFFIC_SHIFT): checking it there before production traffic moves',
  ],
  'gate.version': [{ url: 'https://api.example:8443/version', release: SHA }, "test route https://api.example:8443/version reports 'aaaaaaa'"],
  'gate.playwright-running': [{ url: 'https://api.example:8443' }, 'running the Playwright suite against the test route https://api.example:8443'],
  'gate.playwright-passed': [{ summary: '3 passed, 0 failed, 0 flaky' }, 'Playwright on the test route: 3 passed, 0 failed, 0 flaky'],
  'gate.awaiting-approval': [
    { tag: SHA, deadline: at, workflowId: 'deploy/api/production' },
    `waiting until ${at} for an authorised person to approve ${SHA} on test traffic (Update 'approve' or 'reject', or Signal 'approveSignal' or 'rejectSignal', on deploy/api/production)`,
  ],
  'gate.decided': [{ decision: 'reject', tag: SHA, approver: 'bob', reason: 'wrong colours' }, 'rejected aaaaaaa on test traffic: @bob (wrong colours)'],
  'gate.failed': [{ reason: 'rejected by @bob: wrong colours' }, 'failed on test traffic: rejected by @bob: wrong colours'],
  'gate.answered': [{ action: 'ROLLBACK', answered: true, hookStatus: 'FAILED' }, 'answered the PAUSE hook with ROLLBACK: ECS rolls back to the revision production runs'],
};

describe('progressText', () => {
  for (const [code, [data, words]] of Object.entries(EXAMPLES) as [ProgressCode, [never, string]][]) {
    it(code, () => {
      assert.equal(progressText({ code, level: 'info', at, data } as ProgressEvent), words);
    });
  }

  it('a request without a tag (rollback to the last validated release) or without an environment (release)', () => {
    assert.equal(
      progressText({ code: 'operation.requested', level: 'info', at, data: { operation: 'rollback', app: 'api', env: 'production', actor: 'bob' } }),
      'rollback api in production by @bob',
    );
    assert.equal(
      progressText({ code: 'operation.requested', level: 'info', at, data: { operation: 'release', app: 'api', tag: SHA, actor: 'bob' } }),
      'release api aaaaaaa by @bob',
    );
  });

  it('a hook other than awaiting action, and a re-run by another person', () => {
    assert.equal(progressText({ code: 'ecs.hook', level: 'info', at, data: { name: 'gate', status: 'SUCCEEDED' } }), 'lifecycle hook gate: succeeded');
    assert.equal(
      progressText({ code: 'identity.proven', level: 'info', at, data: { actor: 'alice', triggeringActor: 'bob' } }),
      '@alice proven by a GitHub Actions ID token, re-run by @bob',
    );
  });
});
