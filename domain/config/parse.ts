/** Text → checked config: YAML/JSON parsing with positions, schema problems in plain words, then rules and normalising. */
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { BadInput } from '../errors';
import { PATTERN_HINTS } from './defaults';
import type { SlipwayConfig } from './model';
import { normalise, type RawConfig } from './normalise';
import { formatPath, ruleProblems } from './rules';
import type { JsonSchema } from './schema';
import { validateConfigSchema } from './validate.generated';

/**
 * Parses and validates a config (YAML, or JSON when the text starts with `{`).
 * Throws `BadInput` listing every problem found, each as `<path>: <message>`.
 */
export function parseConfig(text: string, source: string): SlipwayConfig {
  const raw = parseText(text, source);
  const problems = [...schemaProblems(raw), ...ruleProblems(raw)];
  if (problems.length > 0) throw invalid(source, 'is not a valid Slipway config', problems);
  return normalise(raw as RawConfig, source);
}

function invalid(source: string, what: string, problems: string[]): BadInput {
  const list = problems.map((p) => `  - ${p}`).join('\n');
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new BadInput(`${source} ${what} (${count}):\n${list}`, problems);
}

/** Text → plain data. Syntax errors become problems `<source>:<line>:<column>: <message>`. */
function parseText(text: string, source: string): unknown {
  if (text.trim() === '') throw invalid(source, 'is empty', ['(config): is empty; see docs/config-reference.md']);
  return text.trimStart().startsWith('{') ? parseJson(text, source) : parseYaml(text, source);
}

function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `${source}:${line}:${col}: ${firstLine(e.message)}`;
    });
    throw invalid(source, 'is not valid YAML', problems);
  }
  return doc.toJS();
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const { line, col } = linePos(text, jsonErrorOffset(text, message));
    const short = message.replace(/, .*is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    throw invalid(source, 'is not valid JSON', [`${source}:${line}:${col}: ${firstLine(short)}`]);
  }
}

/**
 * Where a JSON syntax error is. V8 names the position for most errors; for the rest the
 * YAML parser with its JSON schema usually finds the spot; otherwise the end of the text.
 */
function jsonErrorOffset(text: string, message: string): number {
  const at = /position (\d+)/.exec(message);
  if (at) return Number(at[1]);
  const yamlError = parseDocument(text, { schema: 'json' }).errors[0];
  return yamlError ? yamlError.pos[0] : text.length;
}

function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

// ---------------------------------------------------------------------------------------
// Schema problems
// ---------------------------------------------------------------------------------------

/** The schema, compiled ahead of time (`npm run config-validator`; a test keeps it current). */
function validate(raw: unknown): ErrorObject[] {
  return validateConfigSchema(raw) ? [] : (validateConfigSchema.errors ?? []);
}

function schemaProblems(raw: unknown): string[] {
  const problems = validate(raw)
    .filter((e) => e.keyword !== 'propertyNames') // its inner error carries the detail
    .map(describeSchemaError);
  return [...new Set(problems)];
}

/** One ajv error → `<path>: <message>` in plain words. */
function describeSchemaError(e: ErrorObject): string {
  const at = pointerSegments(e.instancePath);
  if (e.propertyName !== undefined) {
    return `${formatPath([...at, e.propertyName])}: is not a valid key: ${hintFor(e)}`;
  }
  switch (e.keyword) {
    case 'required':
      return `${formatPath([...at, e.params.missingProperty as string])}: is required`;
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as JsonSchema).properties ?? {});
      return `${formatPath([...at, e.params.additionalProperty as string])}: is not a known key (known keys: ${known.join(', ')})`;
    }
    default:
      return `${formatPath(at)}: ${hintFor(e)}`;
  }
}

function hintFor(e: ErrorObject): string {
  switch (e.keyword) {
    case 'type':
      return `must be ${typeWords(String(e.params.type))}`;
    case 'pattern':
      return PATTERN_HINTS[e.params.pattern as string] ?? (e.message as string);
    case 'minProperties':
      return 'must have at least one entry';
    case 'minItems':
      return 'must list at least one item';
    case 'uniqueItems':
      return `lists ${JSON.stringify((e.data as unknown[])[e.params.j as number])} more than once`;
    case 'minLength':
      return 'must not be empty';
    case 'exclusiveMinimum':
      return `must be greater than ${e.params.limit}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}; got ${JSON.stringify(e.data)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function typeWords(type: string): string {
  const words: Record<string, string> = {
    object: 'a mapping (key: value)',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    integer: 'a whole number',
    boolean: 'true or false',
  };
  return words[type] ?? type;
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
