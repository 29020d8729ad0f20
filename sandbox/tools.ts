/**
 * Paths of the outside tools (Temporal CLI, time-skipping server, moto, registry,
 * Chromium, docker-compose). scripts/setup.sh installs them and records their paths in .tools/env;
 * environment variables of the same names win.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..');

export type ToolName = 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH' | 'MOTO_SERVER_PATH' | 'REGISTRY_PATH' | 'CHROMIUM_PATH' | 'DOCKER_COMPOSE_PATH';

let recorded: Record<string, string> | undefined;

function recordedTools(): Record<string, string> {
  if (recorded) return recorded;
  recorded = {};
  const file = join(REPO_ROOT, '.tools', 'env');
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) recorded[m[1]] = m[2];
    }
  }
  return recorded;
}

export function toolPath(name: ToolName): string {
  const p = process.env[name] || recordedTools()[name];
  if (!p || !existsSync(p)) {
    throw new Error(`${name} is not set and ${p ? `${p} does not exist` : 'was not recorded'}: run ./scripts/setup.sh first`);
  }
  return p;
}
