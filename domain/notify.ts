/**
 * Notifications as plain data: what happened to an operation (`NotifyEvent`) and how it is
 * shown — a Slack Block Kit message, a GitHub deployment state and description.
 *
 * Pure: no I/O, no clock, no Node built-ins, so workflow code may import it. The
 * activities in `activities/notify.ts` send what this module renders.
 *
 * Slack's rules applied here:
 *  - `&`, `<` and `>` in anything a user or the outside world supplied (app, tag, login,
 *    reason, failure text, stopped-task reasons) are escaped as `&amp;`, `&lt;`, `&gt;`,
 *    so no text can turn into a mention (`<!channel>`) or a link;
 *  - a section's text holds at most 3000 characters and a message at most 50 blocks;
 *    long texts are cut at an entity boundary and marked with `…`.
 */
import { shortTag } from './tags';

export type OperationKind = 'deploy' | 'rollback' | 'redeploy' | 'release' | 'pipeline';
export type NotifyPhase = 'started' | 'succeeded' | 'failed';

/** One notification-worthy moment of an operation. */
export interface NotifyEvent {
  kind: OperationKind;
  phase: NotifyPhase;
  app: string;
  /** Absent for operations that touch no environment (a release only tags images). */
  env?: string;
  /** Image tag (usually a full commit SHA). */
  tag: string;
  /** GitHub login of who asked (a leading `@` is ignored). */
  actor: string;
  /** Why the actor asked, as they wrote it. */
  reason?: string;
  /** How it ended: `rolled_back_by_ecs`, `timed_out`, `refused`, `failed`, `verification_failed`, … */
  outcome?: string;
  /** The failure's message. */
  failure?: string;
  /** Reasons ECS gave for stopped tasks of the new revision. */
  stoppedReasons?: string[];
  /** Link to the execution in the Temporal UI. */
  executionUrl: string;
  /** Release name, e.g. `api-2023.03.22.04.56.29`. */
  releaseName?: string;
  /** ECS service name shown as the subject, e.g. `staging-api` (default `<env>-<app>`). */
  service?: string;
}

export interface SlackMessage {
  /** Plain fallback, shown in notifications and by clients that cannot show blocks. */
  text: string;
  blocks: unknown[];
}

export interface SlackMessageOptions {
  /** Mention added to failures, e.g. `<!subteam^S123>` (a user group) or `<@U123>`. */
  maintainersMention?: string;
}

export type GitHubDeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

/** Slack's limit on a section's text. */
export const SLACK_SECTION_TEXT_MAX = 3000;
/** Slack's limit on blocks in one message. */
export const SLACK_MAX_BLOCKS = 50;
/** GitHub's limit on a deployment (status) description. */
export const GITHUB_DESCRIPTION_MAX = 140;

/** Longest single stopped-task reason shown. */
const STOPPED_REASON_MAX = 300;
/** Longest failure message shown in the fallback text. */
const FALLBACK_FAILURE_MAX = 500;

// ---------------------------------------------------------------------------------------
// Slack text helpers

/** Escapes Slack's control characters (`&`, `<`, `>`) in user-provided text. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Cuts already-escaped text to at most `max` characters, never inside an entity
 * (`&amp;`), ending with `…` when anything was cut.
 */
export function truncateEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  return `${cut}…`;
}

/** Escapes and truncates user text for a Slack message. */
function plain(s: string, max = SLACK_SECTION_TEXT_MAX): string {
  return truncateEscaped(escapeSlack(s), max);
}

/** Inline code span; a backtick inside would end the span, so it becomes a quote. */
function code(s: string): string {
  return `\`${plain(s.replace(/`/g, "'"), 200)}\``;
}

/** Code block; a triple backtick inside would end the block. */
function codeBlock(s: string, max: number): string {
  return `\`\`\`${plain(s.replace(/```/g, "'''"), max - 6)}\`\`\``;
}

/** A Slack member ID as Slack issues them (U… or W…). */
const SLACK_MEMBER_ID = /^[UW][A-Z0-9]{2,}$/;
/** Mentions accepted from config as they are: a user group, a member, @here/@channel. */
const SLACK_MENTION = /^<(?:!subteam\^[A-Z0-9]+(?:\|[^<>|]*)?|!here|!channel|!everyone|@[UW][A-Z0-9]{2,})>$/;

/** `<@U123>` when the GitHub login maps to a Slack member ID, else `@login`. Lookup ignores case. */
export function slackActor(actor: string, slackIds: Record<string, string>): string {
  const login = actor.trim().replace(/^@/, '');
  let id: string | undefined = Object.prototype.hasOwnProperty.call(slackIds, login) ? slackIds[login] : undefined;
  if (id === undefined) {
    const lower = login.toLowerCase();
    for (const [k, v] of Object.entries(slackIds)) {
      if (k.replace(/^@/, '').toLowerCase() === lower) {
        id = v;
        break;
      }
    }
  }
  if (typeof id === 'string' && SLACK_MEMBER_ID.test(id.trim())) return `<@${id.trim()}>`;
  return `@${plain(login, 100)}`;
}

/** A mention from config: used as it is when it is a well-formed Slack mention, else shown escaped. */
function mention(m: string): string {
  const t = m.trim();
  return SLACK_MENTION.test(t) ? t : plain(t, 200);
}

/** `<url|label>` for http(s) URLs; anything else is shown as escaped text. */
function link(url: string, label: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) return plain(url, 500);
  return `<${escapeSlack(url).replace(/\|/g, '%7C')}|${label}>`;
}

// ---------------------------------------------------------------------------------------
// Wording

const NOUN: Record<OperationKind, string> = {
  deploy: 'deployment',
  rollback: 'rollback',
  redeploy: 'redeployment',
  release: 'release',
  pipeline: 'release pipeline',
};

interface OutcomeText {
  title: string;
  explanation: string;
}

const OUTCOMES: Record<string, OutcomeText> = {
  rolled_back_by_ecs: {
    title: 'Rolled back by ECS',
    explanation: "ECS's deployment circuit breaker rolled the service back to its previous revision.",
  },
  rolled_back_by_alarm: {
    title: 'Rolled back by an alarm',
    explanation: 'CloudWatch alarms that ECS watches went into ALARM, and ECS rolled the service back to its previous revision.',
  },
  timed_out: {
    title: 'Timed out',
    explanation: 'The new revision did not become healthy within the time allowed.',
  },
  verification_failed: {
    title: 'Verification failed',
    explanation: 'The new revision runs, but the checks against it failed.',
  },
  refused: {
    title: 'Refused',
    explanation: 'The request was refused before anything was changed.',
  },
  failed: {
    title: 'Failed',
    explanation: 'The operation failed.',
  },
};

function outcomeText(outcome: string | undefined): OutcomeText {
  const o = outcome ?? 'failed';
  return OUTCOMES[o] ?? { title: o.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()), explanation: '' };
}

/** What the operation is about: the service (`staging-api`) or, for a release, the app. */
export function subjectOf(event: Pick<NotifyEvent, 'kind' | 'app' | 'env' | 'service'>): string {
  if (event.service) return event.service;
  if (event.kind === 'release' || !event.env) return event.app;
  return `${event.env}-${event.app}`;
}

/** The tail naming the tag: "using the `x` tag", "back to the `x` tag", … */
function tagPhrase(kind: OperationKind, tag: string): string {
  switch (kind) {
    case 'rollback':
      return `back to the ${tag} tag`;
    case 'release':
      return `from the ${tag} tag`;
    default:
      return `using the ${tag} tag`;
  }
}

/** The one-sentence summary (mrkdwn, user text escaped). */
function sentence(event: NotifyEvent, who: string): string {
  const noun = NOUN[event.kind] ?? 'operation';
  const subject = `*${plain(subjectOf(event), 200)}*`;
  const release = event.releaseName ? ` (${code(event.releaseName)})` : '';
  const tag = tagPhrase(event.kind, code(event.tag));
  switch (event.phase) {
    case 'started':
      return `A ${noun} of ${subject}${release} triggered by ${who} is starting ${tag}.`;
    case 'succeeded':
      return `The ${noun} of ${subject}${release} triggered by ${who} ${tag} succeeded.`;
    case 'failed':
      return event.outcome === 'refused'
        ? `The ${noun} of ${subject}${release} requested by ${who} ${tag} was refused.`
        : `The ${noun} of ${subject}${release} triggered by ${who} ${tag} failed.`;
  }
}

const ICON: Record<NotifyPhase, string> = { started: ':rocket:', succeeded: ':white_check_mark:', failed: ':x:' };

function section(text: string) {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateEscaped(text, SLACK_SECTION_TEXT_MAX) } };
}

/**
 * The stopped-task reasons as a bulleted list within one section: identical reasons are
 * counted once (`×12`), each is cut at 300 characters, and the list stops, saying how
 * many more there were, before the section would exceed Slack's limit.
 */
function stoppedList(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    const k = r.trim();
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const head = `*Stopped tasks* (${reasons.length}):`;
  const lines: string[] = [];
  const entries = [...counts];
  const room = SLACK_SECTION_TEXT_MAX - head.length - 40; // kept for the "…and N more" line
  let used = 0;
  let shown = 0;
  for (const [reason, n] of entries) {
    const line = `• ${plain(reason, STOPPED_REASON_MAX)}${n > 1 ? ` (×${n})` : ''}`;
    if (used + line.length + 1 > room) break;
    lines.push(line);
    used += line.length + 1;
    shown++;
  }
  const more = entries.length - shown;
  if (more > 0) lines.push(`_…and ${more} more distinct reason${more === 1 ? '' : 's'}_`);
  return [head, ...lines].join('\n');
}

// ---------------------------------------------------------------------------------------
// Slack

/**
 * The Slack message for an event: the summary sentence, the reason, on failure what
 * happened (outcome, failure message, stopped-task reasons) and a mention of the
 * maintainers, and a context line linking to the execution in the Temporal UI.
 */
export function slackMessage(event: NotifyEvent, slackIds: Record<string, string>, opts: SlackMessageOptions = {}): SlackMessage {
  const who = slackActor(event.actor, slackIds);
  const summary = sentence(event, who);
  const failed = event.phase === 'failed';
  const ping = failed && opts.maintainersMention ? mention(opts.maintainersMention) : undefined;
  const runLink = link(event.executionUrl, 'View the run in Temporal');

  const blocks: unknown[] = [section(`${ICON[event.phase]} ${summary}`)];
  if (event.reason?.trim()) blocks.push(section(`*Reason:* ${plain(event.reason.trim(), SLACK_SECTION_TEXT_MAX - 20)}`));

  const outcome = outcomeText(event.outcome);
  if (failed) {
    const lines = [`*${plain(outcome.title, 100)}*${outcome.explanation ? ` ${outcome.explanation}` : ''}`];
    if (event.failure?.trim()) lines.push(codeBlock(event.failure.trim(), SLACK_SECTION_TEXT_MAX - lines[0].length - 10));
    blocks.push(section(lines.join('\n')));
  }
  if (failed && event.stoppedReasons?.length) blocks.push(section(stoppedList(event.stoppedReasons)));
  if (ping) blocks.push(section(`${ping} please take a look.`));

  const context = [runLink, `app ${code(event.app)}`];
  if (event.env) context.push(`env ${code(event.env)}`);
  context.push(`tag ${code(event.tag)}`);
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncateEscaped(context.join(' · '), SLACK_SECTION_TEXT_MAX) }],
  });

  const text = [summary];
  if (failed) {
    const said = event.failure?.trim() ? `: ${plain(event.failure.trim(), FALLBACK_FAILURE_MAX)}` : '';
    text.push(/[.!?…]$/.test(said) ? `${outcome.title}${said}` : `${outcome.title}${said}.`);
    if (ping) text.push(ping);
  }
  text.push(runLink);
  return { text: text.join(' '), blocks: blocks.slice(0, SLACK_MAX_BLOCKS) };
}

// ---------------------------------------------------------------------------------------
// GitHub deployments

/**
 * The GitHub deployment status for an event: started → `in_progress`, succeeded →
 * `success`; failed → `error` when nothing was attempted (refused, cancelled),
 * `inactive` when superseded, else `failure`.
 */
export function githubDeploymentState(event: Pick<NotifyEvent, 'phase' | 'outcome'>): GitHubDeploymentState {
  switch (event.phase) {
    case 'started':
      return 'in_progress';
    case 'succeeded':
      return 'success';
    case 'failed':
      if (event.outcome === 'refused' || event.outcome === 'cancelled') return 'error';
      if (event.outcome === 'superseded') return 'inactive';
      return 'failure';
  }
}

/** Cuts plain text to `max` characters with `…`. */
function cut(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
}

/** A deployment (status) description for GitHub: plain text, at most 140 characters. */
export function githubDeploymentDescription(event: NotifyEvent): string {
  const subject = subjectOf(event);
  const tag = shortTag(event.tag);
  const actor = `@${event.actor.trim().replace(/^@/, '')}`;
  const what =
    event.kind === 'rollback'
      ? { started: `Rolling ${subject} back to ${tag}`, succeeded: `Rolled ${subject} back to ${tag}` }
      : event.kind === 'release'
        ? { started: `Releasing ${event.releaseName ?? `${subject} ${tag}`}`, succeeded: `Released ${event.releaseName ?? `${subject} ${tag}`}` }
        : { started: `Deploying ${tag} to ${subject}`, succeeded: `Deployed ${tag} to ${subject}` };
  switch (event.phase) {
    case 'started':
      return cut(`${what.started} (${actor})`, GITHUB_DESCRIPTION_MAX);
    case 'succeeded':
      return cut(`${what.succeeded} (${actor})`, GITHUB_DESCRIPTION_MAX);
    case 'failed': {
      const title = outcomeText(event.outcome).title;
      return cut(event.failure?.trim() ? `${title}: ${event.failure}` : `${title}: ${what.started}`, GITHUB_DESCRIPTION_MAX);
    }
  }
}
