/**
 * Checks of what people type into an operation (besides the tag: see tags.ts). Pure: the
 * CLI runs them before starting anything, and the workflows again before doing anything,
 * since any Temporal client can start a workflow.
 */
import { tagProblem } from './tags';

export const MAX_REASON = 1000;
export const MAX_BUDGET_SECONDS = 24 * 3600;
/** Longest value written into a Keyword search attribute (the server's limit is 2 KB). */
const MAX_KEYWORD = 256;

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

export function actorProblem(actor: unknown): string | undefined {
  if (typeof actor === 'string' && LOGIN.test(actor)) return undefined;
  const shown = typeof actor === 'string' && actor.length > 60 ? `${JSON.stringify(actor.slice(0, 60))}…` : JSON.stringify(actor);
  return `actor ${shown} is not a GitHub login`;
}

export function reasonProblem(reason: unknown): string | undefined {
  if (reason === undefined || reason === null) return undefined;
  if (typeof reason !== 'string') return 'reason must be text';
  if (reason.length > MAX_REASON) return `reason is ${reason.length} characters long; at most ${MAX_REASON} are allowed`;
  return undefined;
}

export function budgetProblem(budgetSeconds: unknown): string | undefined {
  if (budgetSeconds === undefined || budgetSeconds === null) return undefined;
  if (typeof budgetSeconds !== 'number' || !Number.isInteger(budgetSeconds) || budgetSeconds <= 0 || budgetSeconds > MAX_BUDGET_SECONDS) {
    return `budget must be a whole number of seconds between 1 and ${MAX_BUDGET_SECONDS}; got ${JSON.stringify(budgetSeconds)}`;
  }
  return undefined;
}

/** The first problem with an operation's input, or undefined. `tag` is checked only when present. */
export function operationInputProblem(input: { tag?: unknown; actor: unknown; reason?: unknown; budgetSeconds?: unknown }, tagRequired: boolean): string | undefined {
  return (
    (tagRequired || input.tag !== undefined ? tagProblem(input.tag) : undefined) ??
    actorProblem(input.actor) ??
    reasonProblem(input.reason) ??
    budgetProblem(input.budgetSeconds)
  );
}

/** A value safe to store in a Keyword search attribute: text, at most 256 characters. */
export function keyword(value: unknown): string {
  const s = String(value);
  return s.length > MAX_KEYWORD ? `${s.slice(0, MAX_KEYWORD - 1)}…` : s;
}
