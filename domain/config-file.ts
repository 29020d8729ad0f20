/**
 * Reading the config file from disk. The parsing and checking are in `config.ts`; this
 * file is the only place that touches the file system for it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadInput } from './errors';
import { parseConfig, type SlipwayConfig } from './config';

/**
 * Reads and parses the config at `path`. A missing or unreadable file is a `BadInput`
 * naming the path and how to point at another file.
 */
export function loadConfig(path: string): SlipwayConfig {
  return parseConfig(readConfigText(path), path);
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(e)})`;
    const problem = `${path}: config file ${why} (looked at ${resolve(path)})`;
    throw new BadInput(`${problem}. Point Slipway at a config file with --config <path> or the SLIPWAY_CONFIG environment variable.`, [problem]);
  }
}
