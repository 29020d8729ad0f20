/**
 * The pieces of a release, as plain data: the date-based name, the image alias, the
 * changelog's path, branch and pull request, and the release notes.
 *
 * Openverse's formats (openverse-facts.md, "Tags" and "Release notes and changelog"):
 *  - release date: UTC `YYYY.MM.DD.HH.MM.SS`, e.g. `2023.03.22.04.56.29`;
 *  - git tag and GitHub Release name `<app>-<date>`, image alias `rel-<date>`;
 *  - changelog `documentation/changelogs/<app>/<date>.md` on branch `changelog/<app>-<date>`,
 *    pull request `Publish changelog for <app>-<date>` whose body pings the dispatcher.
 *
 * Pure and deterministic (workflow code uses it): no I/O, no clock, no randomness; times
 * are arguments.
 */
import { BadInput } from './errors';

// ---------------------------------------------------------------------------------------
// Names

/** A release date: `YYYY.MM.DD.HH.MM.SS` (UTC). */
export const RELEASE_DATE = /^\d{4}\.\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{2}$/;

/** App names as the config allows them: a lowercase letter, then `[a-z0-9_-]`. */
const APP = /^[a-z][a-z0-9_-]*$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The release date of a moment: UTC `YYYY.MM.DD.HH.MM.SS` (milliseconds dropped). */
export function releaseDate(at: Date): string {
  // No `instanceof Date`: workflow code runs in its own realm, with its own Date.
  const ms = typeof (at as Date | undefined)?.getTime === 'function' ? at.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new BadInput(`a release date needs a valid time, got ${String(at)}`);
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (year < 1000 || year > 9999) throw new BadInput(`a release date needs a four-digit year, got ${year}`);
  return [year, pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours()), pad(d.getUTCMinutes()), pad(d.getUTCSeconds())].join('.');
}

/**
 * The moment a release date stands for, as an ISO 8601 UTC string
 * (`2023.03.22.04.56.29` → `2023-03-22T04:56:29Z`), or undefined when `date` is not a
 * release date of a real moment (month 13, 31 February, …).
 */
export function releaseDateToIso(date: string): string | undefined {
  if (!RELEASE_DATE.test(date)) return undefined;
  const [y, mo, d, h, mi, s] = date.split('.').map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const at = new Date(ms);
  if (Number.isNaN(ms) || releaseDate(at) !== date) return undefined;
  return at.toISOString().replace(/\.000Z$/, 'Z');
}

function checkApp(app: string): void {
  if (typeof app !== 'string' || !APP.test(app)) {
    throw new BadInput(`"${String(app)}" is not an app name: use a lowercase letter, then lowercase letters, digits, '_' or '-'`);
  }
}

function checkDate(date: string): void {
  if (typeof date !== 'string' || releaseDateToIso(date) === undefined) {
    throw new BadInput(`"${String(date)}" is not a release date: expected UTC YYYY.MM.DD.HH.MM.SS, e.g. 2023.03.22.04.56.29`);
  }
}

/** Git tag and GitHub Release name: `<app>-<date>` (`api-2023.03.22.04.56.29`). */
export function releaseName(app: string, date: string): string {
  checkApp(app);
  checkDate(date);
  return `${app}-${date}`;
}

/** The image tag that aliases the released SHA tag: `rel-<date>`. */
export function imageAlias(date: string): string {
  checkDate(date);
  return `rel-${date}`;
}

/** Where the changelog of a release lives: `documentation/changelogs/<app>/<date>.md`. */
export function changelogPath(app: string, date: string): string {
  checkApp(app);
  checkDate(date);
  return `documentation/changelogs/${app}/${date}.md`;
}

/** Branch of the changelog pull request: `changelog/<app>-<date>`. */
export function changelogBranch(app: string, date: string): string {
  return `changelog/${releaseName(app, date)}`;
}

/** Title of the changelog pull request (also its commit message): `Publish changelog for <app>-<date>`. */
export function changelogTitle(app: string, date: string): string {
  return `Publish changelog for ${releaseName(app, date)}`;
}

/** A GitHub login without a leading `@`. */
function login(actor: string): string {
  return String(actor ?? '')
    .trim()
    .replace(/^@+/, '');
}

/** Body of the changelog pull request: links the release and mentions `@<actor>`, who is pinged to review it. */
export function changelogBody(actor: string, releaseUrl: string): string {
  const who = login(actor);
  if (!who) throw new BadInput('the changelog pull request needs the login of who released, to ping them');
  return [
    `This pull request adds the changelog of [this release](${releaseUrl}) to the documentation site.`,
    '',
    `@${who}, you dispatched the release: please review and merge it.`,
    '',
  ].join('\n');
}

/** The app and date of a release name, or undefined when `name` is not `<app>-<date>`. */
export interface ParsedReleaseName {
  app: string;
  date: string;
  /** The date as an ISO 8601 UTC time. */
  iso: string;
}

/**
 * Splits `<app>-<date>` at the date (app names may hold `-` and `_`:
 * `ingestion_server-2023.03.22.04.56.29`). Undefined for anything else, including dates
 * of no real moment.
 */
export function parseReleaseName(name: string): ParsedReleaseName | undefined {
  if (typeof name !== 'string') return undefined;
  const m = /^(.+)-(\d{4}\.\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{2})$/.exec(name);
  if (!m || !APP.test(m[1])) return undefined;
  const iso = releaseDateToIso(m[2]);
  return iso === undefined ? undefined : { app: m[1], date: m[2], iso };
}

// ---------------------------------------------------------------------------------------
// Labels and release notes

/** Openverse labels each pull request with the app ("stack") it changes. */
export const OPENVERSE_APP_LABELS: Readonly<Record<string, string>> = {
  api: '🧱 stack: api',
  frontend: '🧱 stack: frontend',
  ingestion_server: '🧱 stack: ingestion server',
};

/**
 * The label that marks an app's pull requests: the mapping's entry, else Openverse's
 * convention `🧱 stack: <app>` with `_` read as a space.
 */
export function appLabel(app: string, labels: Readonly<Record<string, string>> = OPENVERSE_APP_LABELS): string {
  return Object.prototype.hasOwnProperty.call(labels, app) ? labels[app] : `🧱 stack: ${app.replace(/_/g, ' ')}`;
}

/** A merged pull request, as the release notes need it. */
export interface NotesPull {
  number: number;
  title: string;
  /** GitHub login. */
  author: string;
  labels: string[];
}

/** A heading of the release notes and the labels that put a pull request under it. */
export interface NotesCategory {
  title: string;
  labels: string[];
}

/** Openverse's categories, in the order the notes list them. */
export const OPENVERSE_CATEGORIES: readonly NotesCategory[] = [
  { title: 'New Features', labels: ['🌟 goal: addition'] },
  { title: 'Improvements', labels: ['✨ goal: improvement'] },
  { title: 'Internal Improvements', labels: ['🤖 aspect: dx', '🧰 goal: internal improvement'] },
  { title: 'Bug Fixes', labels: ['🛠 goal: fix'] },
];

export const SKIP_CHANGELOG_LABEL = 'skip-changelog';

export interface ReleaseNotesOptions {
  /** Pull requests with this label are left out. Default `skip-changelog`. */
  skipLabel?: string;
  /**
   * Heading for pull requests that match no category, listed last; `false` leaves them
   * out. Default `Other`, so no merged change goes unmentioned.
   */
  otherTitle?: string | false;
}

/**
 * Release notes in Markdown: one `## <category>` section per category that has pull
 * requests, in the configured order, each line `- <title> (#<n>) by @<author>`.
 *
 * - A pull request with the skip label is left out.
 * - One in several categories is listed once, under the first of them in category order.
 * - One in no category goes under the "Other" heading (see `otherTitle`).
 * - A pull request given twice (same number) is listed once; within a section the lines
 *   are in pull request number order, so the same input always gives the same notes.
 * - Labels match case-insensitively, as GitHub's label names do.
 * - Titles are put on one line (whitespace runs collapsed).
 *
 * No pull requests at all gives a sentence saying so. No trailing newline.
 */
export function releaseNotes(pulls: readonly NotesPull[], categories: readonly NotesCategory[] = OPENVERSE_CATEGORIES, opts: ReleaseNotesOptions = {}): string {
  const skip = (opts.skipLabel ?? SKIP_CHANGELOG_LABEL).toLowerCase();
  const otherTitle = opts.otherTitle === undefined ? 'Other' : opts.otherTitle;
  const sections = categories.map((c) => ({ title: c.title, labels: new Set(c.labels.map((l) => l.toLowerCase())), lines: [] as NotesPull[] }));
  const other: NotesPull[] = [];

  const seen = new Set<number>();
  let skipped = 0;
  for (const pull of pulls) {
    if (seen.has(pull.number)) continue;
    seen.add(pull.number);
    const labels = pull.labels.map((l) => l.toLowerCase());
    if (labels.includes(skip)) {
      skipped++;
      continue;
    }
    const section = sections.find((s) => labels.some((l) => s.labels.has(l)));
    if (section) section.lines.push(pull);
    else other.push(pull);
  }

  const blocks: string[] = [];
  const block = (title: string, list: NotesPull[]) => {
    if (list.length === 0) return;
    const lines = [...list].sort((a, b) => a.number - b.number).map(noteLine);
    blocks.push(`## ${title}\n\n${lines.join('\n')}`);
  };
  for (const s of sections) block(s.title, s.lines);
  if (otherTitle !== false) block(otherTitle, other);

  if (blocks.length > 0) return blocks.join('\n\n');
  if (seen.size === 0) return 'No pull requests were merged since the previous release.';
  const left = seen.size - skipped;
  const reasons = [skipped ? `${skipped} labelled ${opts.skipLabel ?? SKIP_CHANGELOG_LABEL}` : '', left ? `${left} in no release-notes category` : ''].filter(Boolean).join(', ');
  return `No pull requests merged since the previous release need a changelog entry (${reasons}).`;
}

/** `- <title> (#<n>) by @<author>` */
export function noteLine(pull: NotesPull): string {
  return `- ${pull.title.replace(/\s+/g, ' ').trim()} (#${pull.number}) by @${login(pull.author)}`;
}

/** The changelog file: `# <date>`, a blank line, the notes, a final newline. */
export function changelogFile(date: string, notes: string): string {
  checkDate(date);
  return `# ${date}\n\n${notes.replace(/\s+$/, '')}\n`;
}

// ---------------------------------------------------------------------------------------
// Marks in a release body

/**
 * The hidden line a Slipway release body ends with: which app and commit it released. It
 * lets a second request for the same image find the release it already made.
 */
export function releaseMarker(app: string, sha: string): string {
  return `<!-- slipway: app=${app} sha=${sha} -->`;
}

/** The app and commit in a release body's marker, if it has one. */
export function readReleaseMarker(body: string | null | undefined): { app: string; sha: string } | undefined {
  const m = /<!-- slipway: app=([a-z][a-z0-9_-]*) sha=([0-9a-f]{40}) -->/.exec(body ?? '');
  return m ? { app: m[1], sha: m[2] } : undefined;
}

/** Hidden line that marks a failure notice, so the notice is added once. */
export const FAILED_MARKER = '<!-- slipway: failed -->';

/** Whether a release body already carries a failure notice. */
export function isMarkedFailed(body: string | null | undefined): boolean {
  return (body ?? '').includes(FAILED_MARKER);
}

/**
 * The release body with a failure notice on top (a GitHub "caution" alert). Unchanged when
 * it already has one, whatever its reason.
 */
export function withFailureNotice(body: string | null | undefined, reason: string): string {
  const current = body ?? '';
  if (isMarkedFailed(current)) return current;
  const why = reason.replace(/\s+/g, ' ').trim() || 'no reason given';
  const shown = why.length > 500 ? `${why.slice(0, 499)}…` : why;
  const notice = [
    FAILED_MARKER,
    '> [!CAUTION]',
    `> **The production deployment of this release failed**: ${/[.!?…]$/.test(shown) ? shown : `${shown}.`}`,
    '>',
    '> Production may still run the previous release.',
  ].join('\n');
  return current ? `${notice}\n\n${current}` : `${notice}\n`;
}
