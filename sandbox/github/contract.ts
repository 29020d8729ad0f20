/**
 * The contract: GitHub's OpenAPI description of the operations the sandbox serves (the
 * pruned copy, see openapi.ts), compiled into validators for request and response bodies.
 */
import { readFile } from 'node:fs/promises';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { BASIC_ERROR_SOURCE, type OpenApiDocument, PRUNED_OPENAPI_FILE } from './openapi';

interface SpecResponse {
  /** JSON schema of an `application/json` body, when the description gives one. */
  schema?: object;
}

export interface SpecOperation {
  operationId: string;
  docsUrl: string;
  requestSchema?: object;
  responses: Map<number, SpecResponse>;
}

/** Compiles and caches validators for the operations the router serves. */
export class Contract {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    readonly operations: Map<string, SpecOperation>,
    private readonly basicError: object,
  ) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, unicodeRegExp: false, logger: false });
    addFormats(this.ajv);
  }

  operation(key: string): SpecOperation {
    const op = this.operations.get(key);
    if (!op) throw new Error(`${key} is not in GitHub's OpenAPI description`);
    return op;
  }

  /** Problems with a response body; empty when it conforms. */
  checkResponse(key: string, status: number, body: unknown): string[] {
    const op = this.operation(key);
    const declared = op.responses.get(status);
    const empty = body === undefined;
    if (declared?.schema) {
      if (empty) return [`status ${status} must have a JSON body`];
      return this.run(`${key} ${status}`, declared.schema, body);
    }
    if (status === 204 || status === 304) return empty ? [] : [`status ${status} must not have a body`];
    if (status >= 400) return empty ? [] : this.run('basic-error', this.basicError, body);
    if (!declared) return [`status ${status} is not documented for ${op.operationId}`];
    return [];
  }

  /** Problems with an error body answered outside any operation (401, unknown route). */
  checkError(body: unknown): string[] {
    return this.run('basic-error', this.basicError, body);
  }

  /**
   * Problems with a request body, worded as GitHub words them (`"tag_name" wasn't
   * supplied.`); empty when it conforms or the operation takes no body.
   */
  checkRequest(key: string, body: unknown): string[] {
    const op = this.operation(key);
    if (!op.requestSchema) return [];
    const validate = this.compiled(`${key} request`, op.requestSchema);
    if (validate(body ?? {})) return [];
    const problems = new Set<string>();
    for (const e of validate.errors ?? []) {
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      if (e.keyword === 'required' && !e.instancePath && missing) problems.add(`"${missing}" wasn't supplied.`);
      else if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') problems.add(`For '${e.instancePath.slice(1) || 'body'}', ${e.message ?? e.keyword}.`);
    }
    return [...problems];
  }

  private compiled(cacheKey: string, schema: object): ValidateFunction {
    let validate = this.validators.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(cacheKey, validate);
    }
    return validate;
  }

  private run(cacheKey: string, schema: object, data: unknown): string[] {
    const validate = this.compiled(cacheKey, schema);
    return validate(data) ? [] : describeErrors(validate.errors ?? []);
  }
}

function describeErrors(errors: ErrorObject[]): string[] {
  const seen = new Set<string>();
  for (const e of errors) {
    const where = e.instancePath || '(body)';
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
          : '';
    seen.add(`${where} ${e.message ?? e.keyword}${extra}`);
    if (seen.size >= 25) break;
  }
  return [...seen];
}

/**
 * The formats GitHub's description uses, registered by hand. `uri` also admits "": GitHub
 * answers an empty string for unset URLs (a deployment status's `target_url`, an
 * organisation's `blog`) where the description says `format: uri`.
 */
function addFormats(ajv: Ajv): void {
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', /^(?:[a-z][a-z0-9+.-]*:\S*)?$/i);
  ajv.addFormat('uri-template', (s: string) => !/\s/.test(s) && balancedBraces(s));
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat('timestamp', true);
}

function balancedBraces(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Keys whose values are data, not subschemas. */
const VALUE_KEYWORDS = new Set(['enum', 'const', 'default', 'required']);
const DROPPED_KEYWORDS = new Set(['example', 'examples', 'description', 'externalDocs', 'discriminator']);

/**
 * Turns an OpenAPI 3.0 schema into plain JSON Schema: `nullable: true` becomes a `null`
 * type (or an `anyOf` with null when there is no `type`), and documentation-only keywords go.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (DROPPED_KEYWORDS.has(k) || k.startsWith('x-')) continue;
    if (VALUE_KEYWORDS.has(k)) out[k] = v;
    else if (k === 'properties' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, toJsonSchema(s)]));
    } else out[k] = toJsonSchema(v);
  }
  const nullable = out.nullable === true;
  delete out.nullable;
  if (!nullable) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  if (Array.isArray(out.type)) {
    if (!out.type.includes('null')) out.type = [...out.type, 'null'];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

let contractPromise: Promise<Contract> | undefined;

/**
 * Reads the pruned description once per process and checks that it has every operation in
 * `keys` (the routes served). Validators compile lazily.
 */
export function loadContract(keys: string[]): Promise<Contract> {
  contractPromise ??= (async () => {
    const doc = JSON.parse(await readFile(PRUNED_OPENAPI_FILE, 'utf8')) as OpenApiDocument;
    const operations = new Map<string, SpecOperation>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, raw] of Object.entries(methods)) {
        const responses = new Map<number, SpecResponse>();
        for (const [status, r] of Object.entries<any>(raw.responses ?? {})) {
          const schema = r?.content?.['application/json']?.schema;
          responses.set(Number(status), schema ? { schema: toJsonSchema(schema) as object } : {});
        }
        const requestSchema = raw.requestBody?.content?.['application/json']?.schema;
        operations.set(`${method.toUpperCase()} ${path}`, {
          operationId: String(raw.operationId),
          docsUrl: String(raw.externalDocs?.url ?? 'https://docs.github.com/rest'),
          requestSchema: requestSchema ? (toJsonSchema(requestSchema) as object) : undefined,
          responses,
        });
      }
    }
    const missing = keys.filter((k) => !operations.has(k));
    if (missing.length) throw new Error(`GitHub sandbox: ${missing.join(', ')} not in ${PRUNED_OPENAPI_FILE}: run npm run github-openapi`);
    const basicError = operations.get(BASIC_ERROR_SOURCE)?.responses.get(404)?.schema;
    if (!basicError) throw new Error(`GitHub sandbox: no basic error schema (${BASIC_ERROR_SOURCE} 404) in ${PRUNED_OPENAPI_FILE}`);
    return new Contract(operations, basicError);
  })();
  contractPromise.catch(() => {
    contractPromise = undefined;
  });
  return contractPromise;
}
