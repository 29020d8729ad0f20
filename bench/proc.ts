/** Child processes: timed runs, and memory/CPU read from /proc (Linux). */
import { spawn, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const CLK_TCK = 100;

export interface ProcStats {
  /** Peak resident set size since the process started (VmHWM), KiB. */
  hwmKiB: number;
  /** Current resident set size (VmRSS), KiB. */
  rssKiB: number;
  /** User + system CPU seconds of all its threads so far. */
  cpuSeconds: number;
}

/** Reads /proc/<pid>/status and /proc/<pid>/stat; undefined once the process is gone. */
export function procStats(pid: number): ProcStats | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return { hwmKiB: kib('VmHWM'), rssKiB: kib('VmRSS'), cpuSeconds: (utime + stime) / CLK_TCK };
  } catch {
    return undefined;
  }
}

export interface TimedRun {
  code: number | null;
  /** Epoch ms of the spawn call and of the exit event. */
  startedAt: number;
  endedAt: number;
  stdout: string;
  stderr: string;
}

/** Spawns `cmd args` and resolves when it exits, with wall-clock marks and its output. */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, startedAt, endedAt: Date.now(), stdout, stderr }));
  });
}

/** Throws with the command's output when it did not exit 0. */
export function expectOk(r: TimedRun, what: string): TimedRun {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r;
}
