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
import { localActivityType, RECORDED_DIR, withTaskEndingAfter, type HistoryJSON } from './histories';

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

describe('a workflow task that ends right after a local activity still replays', () => {
  // A worker heartbeats a workflow task it is slow to finish (local activities running): the
  // task can end just after a local activity's marker, and the next task carries the rest. On
  // replay that activity resolves before the next task's patch markers are known, so every
  // patch the operation consults afterwards must have been decided before its first local
  // activity (PATCHES_AFTER_PREFLIGHT in workflows/patches.ts).
  for (const f of ['deploy-succeeded.json', 'deploy-confirmed-locally.json', 'rollback-last-validated.json', 'rollback-already-running.json', 'redeploy.json']) {
    it(f, async () => {
      const history = JSON.parse(readFileSync(join(RECORDED_DIR, f), 'utf8')) as HistoryJSON;
      const workflowId: string = history.events[0].workflowExecutionStartedEventAttributes.workflowId;
      const at = history.events.flatMap((e, i) => (localActivityType(e) ? [i] : []));
      assert.ok(at.length >= 3, `${f} runs its checks as local activities (${at.length} markers)`);
      const bundle = await workflowBundlePath();
      for (const i of at) {
        await Worker.runReplayHistory({ workflowBundle: { codePath: bundle } }, withTaskEndingAfter(history, i), workflowId).catch((err: Error) => {
          throw new Error(`${f} with a workflow task ending after its ${localActivityType(history.events[i])} (event ${i + 1}): ${err.message}`);
        });
      }
    });
  }
});
