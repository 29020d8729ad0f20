/**
 * Starts the Temporal CLI's dev server (a real Temporal server in one process, SQLite
 * persistence, optional Web UI) with Slipway's search attributes registered, and waits
 * until it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_DECLARATIONS } from '../contract';
import { toolPath } from './tools';

export interface DevServerOptions {
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; headless when omitted. */
  uiPort?: number;
  /** SQLite file: state survives restarts. In memory when omitted. */
  dbFile?: string;
  /** Where the server's own log goes ('ignore' by default, 'inherit' to watch it). */
  stdio?: 'ignore' | 'inherit';
}

export interface DevServer {
  address: string;
  port: number;
  uiUrl?: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Ports are free when picked, not reserved: another process (a test file running beside
 * this one) may bind one first. The server then exits, and is started again on other free
 * ports (unless the caller chose the port). On a port picked here, the readiness check asks
 * for a namespace only this server has, so a server someone else started on that port is
 * never taken for ours.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(opts);
    } catch (err) {
      if (!(err instanceof ServerExited) || opts.port !== undefined || attempt >= 3) throw err;
    }
  }
}

class ServerExited extends Error {}

async function startDevServerOnce(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port ?? (await freePort());
  // A port picked here gets a marker namespace (a caller's own port, such as `npm start`'s, does not).
  const marker = opts.port === undefined ? `dev-server-${randomBytes(6).toString('hex')}` : undefined;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  if (marker) args.push('--namespace', marker);
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  for (const sa of SEARCH_ATTRIBUTE_DECLARATIONS) args.push('--search-attribute', sa);
  // Task-queue priority (rollbacks and production before staging on the ECS task queues)
  // needs the priority-enabled matcher; said explicitly rather than left to the CLI's default.
  args.push('--dynamic-config-value', 'matching.useNewMatcher=true');

  const child = spawn(toolPath('TEMPORAL_CLI_PATH'), args, { stdio: ['ignore', opts.stdio ?? 'ignore', opts.stdio ?? 'ignore'] });
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new ServerExited(`temporal server start-dev exited with code ${exited} (args: ${args.join(' ')})`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        // Only this server has the marker namespace.
        if (marker) await conn.workflowService.describeNamespace({ namespace: marker });
      } finally {
        await conn.close();
      }
      if (exited === undefined) break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Temporal dev server on ${address} did not answer within 60 s: ${(err as Error).message}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    address,
    port,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    process: child,
    async stop() {
      if (exited !== undefined) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
}
