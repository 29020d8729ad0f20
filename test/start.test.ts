/**
 * The local start (`./scripts/start.sh`), as a newcomer runs it: stopped with SIGTERM while it
 * runs, it stops every process it started (checked by PID) and prints no error; a busy port is
 * named with the variable that moves it, and nothing is left running.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { eventually } from './harness';

/** Every process below `pid`, by walking /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function start(env: Record<string, string>, args: string[] = []): Promise<Started> {
  const child = spawn(join(REPO_ROOT, 'scripts', 'start.sh'), args, {
    cwd: REPO_ROOT,
    env: { ...process.env, SLIPWAY_DEV_STATE_DIR: mkdtempSync(join(tmpdir(), 'slipway-start-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

async function ports(): Promise<Record<string, string>> {
  return {
    SLIPWAY_DEV_TEMPORAL_PORT: String(await freePort()),
    SLIPWAY_DEV_UI_PORT: String(await freePort()),
    SLIPWAY_DEV_ECS_PORT: String(await freePort()),
  };
}

/** Lines of stderr other than set-up's own progress lines. */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.trim() && !l.startsWith('setup: ') && !/^npm warn/i.test(l));

describe('./scripts/start.sh', () => {
  it('SIGTERM while it runs stops the dev server, the sandboxes and the worker: no process left, no error', async () => {
    const s = await start(await ports());
    try {
      await eventually('the demo deploys to finish', () => /Running\. Ctrl-C stops everything/.test(s.out()), 240_000, 200);
      const pids = descendants(s.child.pid!);
      assert.ok(pids.length > 0, 'the start runs child processes (Temporal dev server, registry)');
      s.child.kill('SIGTERM');
      const { code } = await s.exit;
      assert.equal(code, 0, `exit code after SIGTERM; stderr:\n${s.err()}`);
      await eventually('every child process to be gone', () => pids.every((p) => !alive(p)), 20_000, 100);
      assert.deepEqual(errors(s.err()), [], 'nothing printed as an error');
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('--once runs the demo, stops everything and says how to keep the stack up instead of instructions that cannot work', async () => {
    const s = await start(await ports(), ['--once']);
    let pids: number[] = [];
    const watch = setInterval(() => (pids = [...new Set([...pids, ...descendants(s.child.pid!)])]), 200);
    try {
      const { code } = await s.exit;
      assert.equal(code, 0, `stderr:\n${s.err()}`);
      assert.match(s.out(), /succeeded/);
      assert.match(s.out(), /without --once/);
      assert.doesNotMatch(s.out(), /export TEMPORAL_ADDRESS/);
      assert.ok(pids.length > 0, 'child processes were seen while it ran');
      await eventually('every child process to be gone', () => pids.every((p) => !alive(p)), 20_000, 100);
      assert.deepEqual(errors(s.err()), []);
    } finally {
      clearInterval(watch);
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('a busy port is named with the variable that moves it, and nothing is started', async () => {
    const env = await ports();
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(Number(env.SLIPWAY_DEV_UI_PORT), '127.0.0.1', () => r()));
    try {
      const s = await start(env);
      const { code } = await s.exit;
      assert.equal(code, 1);
      assert.match(s.err(), new RegExp(`port ${env.SLIPWAY_DEV_UI_PORT} is already in use: set SLIPWAY_DEV_UI_PORT`));
      // The check comes before anything starts: Temporal's port was never taken.
      const probe = createServer();
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(Number(env.SLIPWAY_DEV_TEMPORAL_PORT), '127.0.0.1', () => resolve());
      });
      await new Promise((r) => probe.close(r));
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
