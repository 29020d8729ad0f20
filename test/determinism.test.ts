/**
 * Proves the replay guard bites: a recorded deploy history replayed against a workflow that
 * calls the same activities in a different order (test/fixtures/incompatible-workflows)
 * fails with a DeterminismViolationError. (That every recorded history replays against
 * today's code is test/replay.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { RECORDED_DIR } from './histories';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

describe('determinism guard', () => {
  // The nondeterminism below is expected: keep the runtime's warning about it out of the output.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });

  it('a deploy history does not replay against a deploy that reorders its activities', async () => {
    const history = JSON.parse(readFileSync(join(RECORDED_DIR, 'v5-deploy-succeeded.json'), 'utf8'));
    const scheduled = history.events.map((e: any) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    assert.deepEqual(scheduled.slice(0, 3), ['resolveTarget', 'authorize', 'checkImageTags'], 'the recorded order the fixture swaps');

    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/incompatible-workflows'),
      logger: quietLogger,
    });
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: { code } }, history, 'deploy/api/staging'), (err: Error) => {
      assert.ok(err instanceof DeterminismViolationError, `expected a DeterminismViolationError, got ${err.name}: ${err.message}`);
      assert.equal(err.name, 'DeterminismViolationError');
      // It fails where the order differs: authorize was recorded, checkImageTags is asked for.
      assert.match(err.message, /nondeterminism/i);
      assert.match(err.message, /authorize/);
      assert.match(err.message, /checkImageTags/);
      return true;
    });
  });
});
