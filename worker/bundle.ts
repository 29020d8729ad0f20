/**
 * Builds the workflow bundle once and caches it by the hash of the code it contains
 * (workflows/ and the pure domain/ code they import), so tests and the worker do not
 * re-bundle unchanged code.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = join(__dirname, '..');

/**
 * Workflow interceptors registered with the workflows: the operation metrics
 * (workflows/metrics.ts) and the priority of local activities (workflows/priority.ts).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/metrics'), require.resolve('../workflows/priority')];

function sourceHash(): string {
  const h = createHash('sha256');
  for (const dir of ['workflows', 'domain']) {
    const files = readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .sort();
    for (const f of files) {
      h.update(`${dir}/${f}\0`);
      h.update(readFileSync(join(ROOT, dir, f)));
    }
  }
  h.update(readFileSync(join(ROOT, 'node_modules/@temporalio/worker/package.json')));
  return h.digest('hex').slice(0, 16);
}

/** Path of a bundle of the current workflow code, built if needed. */
export async function workflowBundlePath(): Promise<string> {
  const dir = join(ROOT, '.slipway', 'cache');
  const path = join(dir, `workflow-bundle-${sourceHash()}.js`);
  if (!existsSync(path)) {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES, logger: quietLogger });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, code);
  }
  return path;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => process.stderr.write(`${m}\n`), log: noop };

if (require.main === module) {
  workflowBundlePath().then(
    (p) => process.stdout.write(`${p}\n`),
    (err: unknown) => {
      process.stderr.write(`slipway bundle: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
