/**
 * Checks of what people type into an operation (besides the tag: see tags.ts). Pure: the
 * CLI runs them before starting anything, and the workflows again before doing anything,
 * since any Temporal client can start a workflow.
 */
import { tagProblem } from './tags';

export const MAX_REASON = 1000;
/** A merged pull request's title as the pipeline keeps it (GitHub allows 256). */
export const MAX_TITLE = 300;
export const MAX_BUDGET_SECONDS = 24 * 3600;
/** Longest value written into a Keyword search attribute (the server's limit is 2 KB). */
const MAX_KEYWORD = 256;

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

export function actorProblem(actor: unknown): string | undefined {
  if (typeof actor === 'string' && LOGIN.test(actor)) return undefined;
  const shown = typeof actor === 'string' && actor.length > 60 ? `${JSON.stringify(actor.slice(0, 60))}…` : JSON.stringify(actor);
  return `actor ${shown} is not a GitHub login`;
}

/**
 * Like actorProblem, for the approver of a pipeline approval: written as GitHub compares
 * logins (`@alice`, ` Alice `) is accepted too, within the same bound; the pipeline compares
 * approvers that way.
 */
export function approverProblem(approver: unknown): string | undefined {
  const bare = typeof approver === 'string' && approver.length <= 64 ? approver.trim().replace(/^@/, '') : approver;
  return actorProblem(bare) === undefined ? undefined : actorProblem(approver)?.replace(/^actor/, 'approver');
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
    (tagRequired || input.tag !== undefined ? tagProblem(input.tag) : undefined) ?? actorProblem(input.actor) ?? reasonProblem(input.reason) ?? budgetProblem(input.budgetSeconds)
  );
}

/** A value safe to store in a Keyword search attribute: text, at most 256 characters. */
export function keyword(value: unknown): string {
  const s = String(value);
  return s.length > MAX_KEYWORD ? `${s.slice(0, MAX_KEYWORD - 1)}…` : s;
}

// ---- messages to long-lived workflows (Signals and Updates): their content stays in state ----

function fields(value: unknown, what: string): Record<string, unknown> | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `${what} must be an object; got ${value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value}`;
  return value as Record<string, unknown>;
}

function textProblem(value: unknown, name: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null) return required ? `${name} is required` : undefined;
  if (typeof value !== 'string') return `${name} must be text`;
  if (value.length > max) return `${name} is ${value.length} characters long; at most ${max} are allowed`;
  return undefined;
}

const SHA = /^[0-9a-f]{40}$/;

/** What is wrong with a merge report (`merged` Signal), or undefined. */
export function mergeReportProblem(m: unknown): string | undefined {
  const f = fields(m, 'a merge report');
  if (typeof f === 'string') return f;
  if (typeof f.sha !== 'string' || !SHA.test(f.sha)) return `sha must be a full commit SHA (40 lowercase hex characters); got ${JSON.stringify(keyword(f.sha).slice(0, 60))}`;
  return actorProblem(f.actor) ?? textProblem(f.title, 'title', MAX_TITLE, false);
}

/** What is wrong with an approval or rejection (Update or Signal), or undefined. */
export function approvalRequestProblem(r: unknown): string | undefined {
  const f = fields(r, 'an approval');
  if (typeof f === 'string') return f;
  if (f.approver === undefined || f.approver === null || f.approver === '') return 'an approver (GitHub login) is required';
  return approverProblem(f.approver) ?? (tagProblem(f.tag) ? `tag: ${tagProblem(f.tag)}` : undefined) ?? reasonProblem(f.reason);
}

/** What is wrong with a pause, resume or cancel request, or undefined. */
export function queueActionProblem(a: unknown): string | undefined {
  const f = fields(a, 'a request');
  if (typeof f === 'string') return f;
  return actorProblem(f.actor) ?? reasonProblem(f.reason) ?? (f.sha === undefined ? undefined : tagProblem(f.sha) ? `sha: ${tagProblem(f.sha)}` : undefined);
}

/** `s` cut to `max` characters (an ellipsis marks the cut). */
export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
