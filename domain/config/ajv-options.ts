/** The Ajv options the config schema is compiled with (ahead of time: scripts/config-validator.ts). */
import type { Options } from 'ajv';

export const AJV_OPTIONS: Options = { allErrors: true, verbose: true, strict: true };
