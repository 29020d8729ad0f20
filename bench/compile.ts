/**
 * Transpiles the production sources to plain CommonJS in a temporary directory, one file per
 * module like `tsc -p tsconfig.build.json` does for the Docker image (no type check), so the
 * CLI can be timed the way the image runs it: `node dist/client/cli.js`.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../sandbox/tools';

const DIRS = ['domain', 'workflows', 'activities', 'worker', 'client'];

/** Writes `<outDir>/<dir>/**.js`; run the result with NODE_PATH=<repo>/node_modules. */
export function transpileProduction(outDir: string): string {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    esModuleInterop: true,
    resolveJsonModule: true,
  };
  for (const dir of DIRS) {
    const files = readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    for (const f of files) {
      const out = ts.transpileModule(readFileSync(join(REPO_ROOT, dir, f), 'utf8'), { compilerOptions: options, fileName: f });
      const target = join(outDir, dir, f.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, out.outputText);
    }
  }
  return join(outDir, 'client', 'cli.js');
}
