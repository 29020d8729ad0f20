/** The pipeline's queue policy, by table: which waiting merge becomes the candidate, and what the others become. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PipelineState, QueueEntry } from '../contract';
import { pickCandidate } from '../domain/queue';

function entry(sha: string, status: QueueEntry['status'] = 'waiting'): QueueEntry {
  return { sha, actor: 'alice', title: `merge ${sha}`, at: '2026-01-01T00:00:00Z', status };
}

type Row = { name: string; policy: PipelineState['policy']; queue: QueueEntry[]; candidate?: string; statuses: string[]; notes?: (string | undefined)[] };

const rows: Row[] = [
  {
    name: 'latest: the newest waiting merge, the older ones superseded by it',
    policy: 'latest',
    queue: [entry('a'), entry('b'), entry('c')],
    candidate: 'c',
    statuses: ['superseded', 'superseded', 'candidate'],
    notes: ['contained in c', 'contained in c', undefined],
  },
  {
    name: 'fifo: the oldest waiting merge, the others keep waiting',
    policy: 'fifo',
    queue: [entry('a'), entry('b'), entry('c')],
    candidate: 'a',
    statuses: ['candidate', 'waiting', 'waiting'],
  },
  {
    name: 'latest: finished entries are left as they are',
    policy: 'latest',
    queue: [entry('a', 'released'), entry('b'), entry('c', 'cancelled')],
    candidate: 'b',
    statuses: ['released', 'candidate', 'cancelled'],
  },
  {
    name: 'fifo: skips entries that no longer wait',
    policy: 'fifo',
    queue: [entry('a', 'failed'), entry('b', 'cancelled'), entry('c')],
    candidate: 'c',
    statuses: ['failed', 'cancelled', 'candidate'],
  },
  {
    name: 'nothing waiting: no candidate, nothing changes',
    policy: 'latest',
    queue: [entry('a', 'released'), entry('b', 'rejected')],
    candidate: undefined,
    statuses: ['released', 'rejected'],
  },
  { name: 'an empty queue: no candidate', policy: 'fifo', queue: [], candidate: undefined, statuses: [] },
];

describe('pickCandidate', () => {
  for (const row of rows) {
    it(row.name, () => {
      const state: Pick<PipelineState, 'policy' | 'queue' | 'candidate'> = { policy: row.policy, queue: row.queue };
      pickCandidate(state);
      assert.equal(state.candidate?.sha, row.candidate);
      if (state.candidate)
        assert.equal(
          state.candidate,
          state.queue.find((e) => e.sha === row.candidate),
          'the candidate is the queue entry itself',
        );
      assert.deepEqual(
        state.queue.map((e) => e.status),
        row.statuses,
      );
      if (row.notes)
        assert.deepEqual(
          state.queue.map((e) => e.note),
          row.notes,
        );
    });
  }
});
