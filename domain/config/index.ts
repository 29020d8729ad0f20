/**
 * Slipway's configuration: which apps exist, which images they publish, and where each
 * app runs in each environment (ECS cluster, service, task definition template).
 *
 * The pipeline is schema → rules → normalise (STYLE.md item 11):
 * 1. `parseConfig` reads YAML or JSON text,
 * 2. checks it against `configSchema` (JSON Schema draft-07, also the source of
 *    docs/config-reference.md),
 * 3. applies the cross-field rules the schema cannot express,
 * 4. and reports every problem at once as one `BadInput`, or returns a `SlipwayConfig`
 *    with all defaults filled in.
 *
 * Pure: no file or network I/O here (reading the file is `../config-file.ts`).
 */
export { CONFIG_DEFAULTS, CONFIG_RULES, describePattern } from './defaults';
export * from './schema';
export * from './model';
export { parseConfig } from './parse';
export * from './lookup';
