/**
 * The contract between Slipway's layers: what the workflows take, return, show and accept
 * (inputs, results, progress and state; queries, signals and updates), their IDs, the search
 * attributes they write and the failure types they end with. Every layer may import it; it
 * imports nothing of theirs and does no I/O, so the CLI can use it without pulling in
 * workflow code.
 */
export * from './ids';
export * from './search-attributes';
export * from './failures';
export * from './types';
export * from './messages';
export * from './progress';
