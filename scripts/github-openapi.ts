/**
 * Writes sandbox/github/openapi.json: the operations the GitHub sandbox serves, cut from the
 * pinned `@octokit/openapi` (see sandbox/github/openapi.ts). Run after adding a route or
 * updating the package: `npm run github-openapi`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PRUNED_OPENAPI_FILE, SOURCE_MODULE, pruneOpenApi, renderOpenApi, type OpenApiDocument } from '../sandbox/github/openapi';
import { ROUTE_KEYS } from '../sandbox/github/routes';

const source = JSON.parse(readFileSync(require.resolve(SOURCE_MODULE), 'utf8')) as OpenApiDocument;
const text = renderOpenApi(pruneOpenApi(source, ROUTE_KEYS));
writeFileSync(PRUNED_OPENAPI_FILE, text);
console.log(`${PRUNED_OPENAPI_FILE}: ${ROUTE_KEYS.length} routes from ${SOURCE_MODULE} ${source.info.version} (${Math.round(text.length / 1024)} KB)`);
