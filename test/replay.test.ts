/**
 * Determinism guard: every recorded history in test/histories/ must replay against
 * today's workflow code. A change that would break an in-flight deploy fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundlePath } from '../worker/bundle';
import { RECORDED_DIR } from './histories';

const files = existsSync(RECORDED_DIR)
  ? readdirSync(RECORDED_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

describe('recorded histories replay', () => {
  it('there are recorded histories to replay', () => {
    assert.ok(files.length > 0, `no histories in ${RECORDED_DIR}`);
  });
  for (const f of files) {
    it(f, async () => {
      const history = JSON.parse(readFileSync(join(RECORDED_DIR, f), 'utf8'));
      // Replayed under the ID it ran under: the workflows check their own ID (the lock).
      const workflowId: string = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? f;
      await Worker.runReplayHistory({ workflowBundle: { codePath: await workflowBundlePath() } }, history, workflowId);
    });
  }
});
