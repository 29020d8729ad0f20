/**
 * Control of a suite's process group: the runner is started detached, so that it, its
 * workers and their browsers can be killed together, also after the runner itself exited,
 * and when the worker process exits first.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * Kills a detached child's whole process group (the runner, its workers and their
 * browsers), also after the runner itself has exited.
 */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}

/** Running suites, killed if the worker process exits first. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
export function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) killGroup(c, 'SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}
