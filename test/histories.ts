/**
 * Recorded workflow histories. Tests save the histories of their runs under
 * .slipway/histories/; `npm run histories:accept` copies them into test/histories/, where
 * the replay test keeps checking that today's workflow code still replays them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { REPO_ROOT } from '../sandbox/tools';

export const RECORDED_DIR = join(REPO_ROOT, 'test', 'histories');
export const FRESH_DIR = join(REPO_ROOT, '.slipway', 'histories');

/** The activity type of a local activity's marker in a history, or undefined for any other event. */
export function localActivityType(e: temporal.api.history.v1.IHistoryEvent): string | undefined {
  const m = e.markerRecordedEventAttributes;
  const data = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
  return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string }).activity_type : undefined;
}

export async function saveHistory(handle: WorkflowHandle, name: string): Promise<void> {
  const history = await handle.fetchHistory();
  mkdirSync(FRESH_DIR, { recursive: true });
  writeFileSync(join(FRESH_DIR, `${name}.json`), historyToJSON(history));
}
