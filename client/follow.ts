/**
 * Follows a running deploy: prints each new progress event once, in words (phase changes,
 * counts, new ECS events), the way a GitHub Actions log reader wants them.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery, type DeployProgress } from '../contract';
import { progressText } from '../domain/progress-text';

export async function followProgress(
  handle: WorkflowHandle,
  print: (line: string) => void,
  done: Promise<unknown>,
  opts: { everyMs?: number; parent?: string } = {},
): Promise<void> {
  const everyMs = opts.everyMs ?? 1000;
  let printed = 0;
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const drain = async () => {
    let p: DeployProgress;
    try {
      p = await handle.query(progressQuery);
    } catch {
      return; // not yet started by a worker, or already gone: try again / stop below
    }
    // Following a rollback's child deploy: skip an earlier deploy of the same service.
    if (opts.parent !== undefined && p.parentWorkflowId !== opts.parent) return;
    // Typed events rendered here; a worker that predates them sends only the words.
    const lines = p.entries ? p.entries.map(progressText) : p.log;
    const count = p.entries ? p.entryCount : p.logCount;
    const firstKept = count - lines.length;
    if (printed < firstKept) {
      print(`… ${firstKept - printed} earlier lines not shown`);
      printed = firstKept;
    }
    for (const line of lines.slice(printed - firstKept)) print(line);
    printed = count;
  };
  while (!finished) {
    await drain();
    await Promise.race([new Promise((r) => setTimeout(r, everyMs)), done.catch(() => undefined)]);
  }
  await drain();
}
