/**
 * The browser shim: a launcher for a system Chromium (Debian's `/usr/bin/chromium`) that
 * adds the flags it needs to run headless in a container, and a browsers directory whose
 * Chromium builds are that launcher, so that a suite's config that reads no variable runs
 * on it too.
 */
import { readFileSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { GateLog } from './common';

/** Flags a system Chromium needs to run headless in a container: no sandbox, no GPU, no background traffic. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Directory names of Playwright's Chromium builds (`chromium-1255`, `chromium_headless_shell-1255`), from the CLI's playwright-core. */
function chromiumBrowserDirs(cli: string): string[] {
  const from = [path.dirname(cli)];
  try {
    from.unshift(path.dirname(require.resolve('playwright/package.json', { paths: [path.dirname(cli)] })));
  } catch {
    // the CLI is playwright's own
  }
  const pkg = require.resolve('playwright-core/package.json', { paths: from });
  const browsers = JSON.parse(readFileSync(path.join(path.dirname(pkg), 'browsers.json'), 'utf8')).browsers as { name: string; revision: string }[];
  return browsers.filter((b) => b.name === 'chromium' || b.name === 'chromium-headless-shell').map((b) => `${b.name.replace(/-/g, '_')}-${b.revision}`);
}

/** Where Playwright versions look for Chromium inside a browser directory (older and newer layouts, x64 and arm64). */
const CHROMIUM_LAYOUTS = [
  'chrome-linux/chrome',
  'chrome-linux/headless_shell',
  'chrome-linux64/chrome',
  'chrome-linux-arm64/chrome',
  'chrome-headless-shell-linux64/chrome-headless-shell',
  'chrome-headless-shell-linux-arm64/chrome-headless-shell',
];

/**
 * A launcher for `chromium` that adds CHROMIUM_ARGS, and (on Linux) a browsers directory
 * whose Chromium builds are that launcher.
 */
export async function chromiumShim(tmp: string, chromium: string, cli: string, log: GateLog): Promise<{ launcher: string; browsersPath?: string }> {
  const launcher = path.join(tmp, 'chromium');
  await writeFile(launcher, `#!/bin/sh\nexec ${shellQuote(chromium)} ${CHROMIUM_ARGS.join(' ')} "$@"\n`);
  await chmod(launcher, 0o755);
  if (process.platform !== 'linux') return { launcher };
  let dirs: string[];
  try {
    dirs = chromiumBrowserDirs(cli);
  } catch (err) {
    log.warn(`cannot read Playwright's browser list (${String(err)}); only configs that read PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH will use ${chromium}`);
    return { launcher };
  }
  const browsersPath = path.join(tmp, 'browsers');
  for (const dir of dirs) {
    for (const layout of CHROMIUM_LAYOUTS) {
      const file = path.join(browsersPath, dir, layout);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `#!/bin/sh\nexec ${shellQuote(launcher)} "$@"\n`);
      await chmod(file, 0o755);
    }
    // Tells Playwright the host was checked (its check runs ldd over the directory).
    await writeFile(path.join(browsersPath, dir, 'DEPENDENCIES_VALIDATED'), '');
  }
  return { launcher, browsersPath };
}
