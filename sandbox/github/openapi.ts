/**
 * The pruned copy of GitHub's OpenAPI description that the sandbox validates against
 * (`openapi.json` beside this file): the operations the sandbox serves, taken verbatim from
 * the dereferenced api.github.com document of the pinned `@octokit/openapi` (a dev
 * dependency, ~385 MB installed, which the sandbox itself never reads). Media-type examples,
 * which no check reads, are left out.
 *
 * `npm run github-openapi` writes the copy; test/github.test.ts checks that it is what the
 * pinned package and the routes give.
 */
import { join } from 'node:path';

/** Where the pruned copy is committed. */
export const PRUNED_OPENAPI_FILE = join(__dirname, 'openapi.json');
/** The document it is cut from. */
export const SOURCE_MODULE = '@octokit/openapi/generated/api.github.com.deref.json';
/** The operation whose 404 answer gives GitHub's generic error schema (kept even if no route served it). */
export const BASIC_ERROR_SOURCE = 'GET /users/{username}';

type Operation = Record<string, any>;
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [k: string]: unknown };
  paths: Record<string, Record<string, Operation>>;
  [k: string]: unknown;
}

/**
 * The pruned document: `keys` (`METHOD /path`, as the description spells the path) and the
 * basic error's source, sorted, each operation as in `source` without media-type examples.
 * Throws naming a key the description does not have.
 */
export function pruneOpenApi(source: OpenApiDocument, keys: Iterable<string>): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const key of [...new Set([...keys, BASIC_ERROR_SOURCE])].sort()) {
    const [method, path] = key.split(' ');
    const op = source.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`${key} is not in GitHub's OpenAPI description (${SOURCE_MODULE} ${source.info.version})`);
    (paths[path] ??= {})[method.toLowerCase()] = withoutExamples(op);
  }
  return {
    openapi: source.openapi,
    info: { title: source.info.title, version: source.info.version },
    'x-pruned-from': `${SOURCE_MODULE}; written by npm run github-openapi`,
    paths,
  };
}

/** The pruned document as committed: two-space JSON and a final newline. */
export function renderOpenApi(doc: OpenApiDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function withoutExamples(op: Operation): Operation {
  const copy = structuredClone(op);
  const media = [copy.requestBody, ...Object.values<any>(copy.responses ?? {})].flatMap((r) => Object.values<any>(r?.content ?? {}));
  for (const m of media) {
    delete m.examples;
    delete m.example;
  }
  return copy;
}
