/**
 * The pipeline's queue policy, as plain data: which waiting merge becomes the candidate.
 * Pure and deterministic (the pipeline workflow runs it); tested by table.
 */
import type { PipelineState } from '../contract';

/**
 * The pick of pipeline runs started before git ancestry decided it (domain/ancestry.ts),
 * kept so their histories replay.
 *
 * Makes the next waiting entry the candidate, by the queue policy: `fifo` takes the oldest;
 * `latest` takes the newest and marks the older waiting ones superseded (the newest contains
 * them). Does nothing when no entry waits.
 */
export function pickCandidate(state: Pick<PipelineState, 'policy' | 'queue' | 'candidate'>): void {
  const waiting = state.queue.filter((e) => e.status === 'waiting');
  if (waiting.length === 0) return;
  const next = state.policy === 'fifo' ? waiting[0] : waiting[waiting.length - 1];
  if (state.policy === 'latest') {
    for (const e of waiting) {
      if (e !== next) {
        e.status = 'superseded';
        e.note = `contained in ${next.sha}`;
      }
    }
  }
  next.status = 'candidate';
  state.candidate = next;
}
