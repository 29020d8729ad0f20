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

/**
 * The activity type of a local activity's marker in a history, or undefined for any other
 * event: a fetched history's (payload bytes) or a recorded one read from JSON (base64).
 */
export function localActivityType(e: temporal.api.history.v1.IHistoryEvent | Record<string, any>): string | undefined {
  const m = e.markerRecordedEventAttributes;
  const data: Uint8Array | string | null | undefined = m?.markerName === 'core_local_activity' ? m.details?.data?.payloads?.[0]?.data : undefined;
  if (!data) return undefined;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
  return (JSON.parse(bytes.toString('utf8')) as { activity_type?: string }).activity_type;
}

export async function saveHistory(handle: WorkflowHandle, name: string): Promise<void> {
  const history = await handle.fetchHistory();
  mkdirSync(FRESH_DIR, { recursive: true });
  writeFileSync(join(FRESH_DIR, `${name}.json`), historyToJSON(history));
}

/** A recorded history as JSON (test/histories/*.json). */
export interface HistoryJSON {
  events: Record<string, any>[];
}

/**
 * `history` with one more workflow task ending right after event `index` (0-based), as when
 * the worker heartbeats a workflow task it is slow to finish: the events after it belong to
 * the next task. Event IDs and the references to them are renumbered.
 */
export function withTaskEndingAfter(history: HistoryJSON, index: number): HistoryJSON {
  const events = structuredClone(history.events);
  const at = events[index];
  const taskQueue = events.find((e) => e.workflowTaskScheduledEventAttributes)!.workflowTaskScheduledEventAttributes.taskQueue;
  const base = Number(at.eventId);
  const time = at.eventTime;
  const inserted = [
    {
      eventId: String(base + 1),
      eventTime: time,
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      workflowTaskScheduledEventAttributes: { taskQueue, startToCloseTimeout: '10s', attempt: 1 },
    },
    {
      eventId: String(base + 2),
      eventTime: time,
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED',
      workflowTaskStartedEventAttributes: { scheduledEventId: String(base + 1), identity: 'heartbeat' },
    },
    {
      eventId: String(base + 3),
      eventTime: time,
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      workflowTaskCompletedEventAttributes: { scheduledEventId: String(base + 1), startedEventId: String(base + 2), identity: 'heartbeat' },
    },
  ];
  const renumber = (id: string) => (Number(id) > base ? String(Number(id) + inserted.length) : id);
  const walk = (o: any): void => {
    if (!o || typeof o !== 'object') return;
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string' && /EventId$/.test(k) && /^\d+$/.test(v)) o[k] = renumber(v);
      else walk(v);
    }
  };
  const after = events.slice(index + 1);
  for (const e of after) {
    e.eventId = renumber(e.eventId);
    walk(e);
  }
  // Commands of the task that ended are recorded as of it; those after, as of the new one, up to the next task's end.
  for (const e of after) {
    if (e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED') break;
    const attrs = Object.values(e).find((v) => v && typeof v === 'object' && 'workflowTaskCompletedEventId' in v) as { workflowTaskCompletedEventId?: string } | undefined;
    if (attrs) attrs.workflowTaskCompletedEventId = String(base + 3);
  }
  return { ...history, events: [...events.slice(0, index + 1), ...inserted, ...after] };
}
