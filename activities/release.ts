/**
 * Release activities on GitHub: find the previous release and the pull requests merged
 * since, tag the released commit and publish the GitHub Release, mark a release whose
 * production deploy failed, and open the changelog pull request.
 *
 * Every effect is idempotent: each activity first looks for what it would create and
 * answers with that (`created: false`), so a retried activity, or a second release request
 * for the same image, makes no second tag, release, branch, commit or pull request. A
 * write that loses a race ("already exists") is answered by reading again. Tags stay
 * truthful: a tag that exists at another commit is refused (ClientRejected), never moved.
 *
 * The names and formats come from `domain/release.ts`.
 */
import type { Octokit } from '@octokit/rest';
import { BadInput, ClientRejected, NotFound } from '../domain/errors';
import {
  appLabel,
  changelogBody,
  changelogBranch,
  changelogFile,
  changelogPath,
  changelogTitle,
  isMarkedFailed,
  parseReleaseName,
  readReleaseMarker,
  RELEASE_DATE,
  releaseMarker,
  withFailureNotice,
} from '../domain/release';
import { rethrowGitHub } from './github';
import { withHeartbeat } from './heartbeat';

export interface ReleaseDeps {
  /** From `createGitHubClient` (the worker's GITHUB_TOKEN). */
  github: Octokit;
  /** Repository that holds the releases, tags and changelogs (`WordPress`). */
  owner: string;
  /** (`openverse`) */
  repo: string;
  /** Branch pull requests merge into and the changelog branch starts from. Default `main`. */
  baseBranch?: string;
  /** App → label of its pull requests. Default Openverse's (`🧱 stack: <app>`). */
  appLabels?: Readonly<Record<string, string>>;
  /** Page size of listings. Default 100 (GitHub's maximum). */
  pageSize?: number;
}

/** A GitHub Release of an app, as the release workflow needs it. */
export interface ReleaseInfo {
  id: number;
  /** `<app>-<date>`: the git tag and the release's name. */
  name: string;
  app: string;
  /** `YYYY.MM.DD.HH.MM.SS` (UTC). */
  date: string;
  /** The release date as an ISO 8601 time: the `since` of the next release's notes. */
  releasedAt: string;
  /** The released commit, from Slipway's marker or a full-SHA target; undefined when neither tells. */
  sha?: string;
  /** The release's page. */
  url: string;
  /** Whether the release carries the failure notice of `markReleaseFailed`. */
  failed: boolean;
}

export interface PreviousReleaseInput {
  app: string;
  /** Only releases dated before this release date (`YYYY.MM.DD.HH.MM.SS`): the one being made is not its own predecessor. */
  before?: string;
  /** Pass over releases marked failed. Default false. */
  skipFailed?: boolean;
}

export interface MergedPullsInput {
  app: string;
  /** Pull requests merged after this ISO 8601 time (the previous release's `releasedAt`); all when absent. */
  since?: string;
  /** …and at or before this ISO 8601 time. */
  until?: string;
  /** Label of the app's pull requests. Default: the app's label (`appLabels`). */
  label?: string;
}

/** A merged pull request: what `releaseNotes` takes, and when and where it was merged. */
export interface MergedPull {
  number: number;
  title: string;
  author: string;
  labels: string[];
  /** ISO 8601. */
  mergedAt: string;
  url: string;
}

export interface FindReleaseInput {
  app: string;
  /** Full commit SHA (40 hex digits). */
  sha: string;
}

export interface CreateReleaseInput {
  app: string;
  /** `<app>-<date>` (from `releaseName`). */
  name: string;
  /** Full commit SHA the tag points at. */
  sha: string;
  /** The release notes (Markdown). */
  body: string;
  /** GitHub login of who released; named in the release body. */
  actor: string;
}

export interface CreateReleaseResult extends ReleaseInfo {
  /** False when the tag and the release already existed for this commit. */
  created: boolean;
}

export interface MarkReleaseFailedInput {
  releaseId: number;
  /** Why the production deploy failed (one line is best). */
  reason: string;
}

export interface MarkReleaseFailedResult {
  id: number;
  url: string;
  /** False when the release already carried a failure notice. */
  changed: boolean;
}

export interface OpenChangelogPrInput {
  app: string;
  /** The release date (`YYYY.MM.DD.HH.MM.SS`). */
  date: string;
  /** The release notes (Markdown), as in the release body. */
  notes: string;
  /** GitHub login of who dispatched the release: pinged in the pull request. */
  actor: string;
  /** The GitHub Release's page. */
  releaseUrl: string;
}

export interface ChangelogPr {
  number: number;
  url: string;
  state: 'open' | 'closed';
  branch: string;
  path: string;
  /** False when a pull request from the changelog branch already existed (in any state). */
  created: boolean;
}

const SHA = /^[0-9a-f]{40}$/;
/** GitHub's search answers at most this many results of a query. */
const SEARCH_LIMIT = 1000;
const TOKEN_NEEDS = 'the repo scope (classic token) or Contents: write and Pull requests: write (fine-grained token)';

function statusOf(err: unknown): number | undefined {
  return (err as { status?: number } | undefined)?.status;
}

function checkSha(sha: unknown): string {
  const s = typeof sha === 'string' ? sha.trim().toLowerCase() : '';
  if (!SHA.test(s)) throw new BadInput(`"${String(sha)}" is not a full commit SHA (40 hex digits)`);
  return s;
}

/** ISO time for a search qualifier, whole seconds (`2023-03-22T04:56:29Z`); `up` rounds a fraction up. */
function searchTime(ms: number, up = false): string {
  const s = up ? Math.ceil(ms / 1000) : Math.floor(ms / 1000);
  return new Date(s * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function parseTime(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BadInput(`${what} "${value}" is not an ISO 8601 time`);
  return ms;
}

/** The fields of a GitHub Release this module reads. */
interface RawRelease {
  id: number;
  tag_name: string;
  name: string | null;
  target_commitish: string;
  body?: string | null;
  html_url: string;
  draft: boolean;
}

/** The app release a GitHub Release stands for, or undefined when its tag (or name) is not `<app>-<date>`. */
function releaseInfo(rel: RawRelease): ReleaseInfo | undefined {
  const parsed = parseReleaseName(rel.tag_name) ?? (rel.name ? parseReleaseName(rel.name) : undefined);
  if (!parsed) return undefined;
  const marker = readReleaseMarker(rel.body);
  const target = rel.target_commitish.toLowerCase();
  const sha = marker?.app === parsed.app ? marker.sha : SHA.test(target) ? target : undefined;
  return {
    id: rel.id,
    name: `${parsed.app}-${parsed.date}`,
    app: parsed.app,
    date: parsed.date,
    releasedAt: parsed.iso,
    ...(sha ? { sha } : {}),
    url: rel.html_url,
    failed: isMarkedFailed(rel.body),
  };
}

/** Newest first by release date (then by id). */
function newestFirst(a: ReleaseInfo, b: ReleaseInfo): number {
  return a.date < b.date ? 1 : a.date > b.date ? -1 : b.id - a.id;
}

export function createReleaseActivities(deps: ReleaseDeps) {
  const { github, owner, repo } = deps;
  const base = deps.baseBranch ?? 'main';
  const perPage = deps.pageSize ?? 100;
  const where = `${owner}/${repo}`;

  /** Runs `fn` with a heartbeat; GitHub errors become Slipway's (retryable or not). */
  function run<T>(what: string, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> {
    return withHeartbeat(async (signal) => {
      try {
        return await fn(signal);
      } catch (err) {
        rethrowGitHub(err, what, { tokenNeeds: TOKEN_NEEDS, notFound: `${what}: ${where} or something it needs was not found` });
      }
    });
  }

  /** The result of `call`, or undefined when GitHub answers 404. */
  async function unless404<T>(call: Promise<T>): Promise<T | undefined> {
    try {
      return await call;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** Every release of the repository (drafts included). */
  function allReleases(signal?: AbortSignal): Promise<RawRelease[]> {
    return github.paginate(github.rest.repos.listReleases, { owner, repo, per_page: perPage, request: { signal } });
  }

  /** The commit a ref points at (`tags/x`, `heads/y`), or undefined when there is no such ref. */
  async function readRef(ref: string, signal?: AbortSignal): Promise<{ sha: string; type: string } | undefined> {
    const res = await unless404(github.rest.git.getRef({ owner, repo, ref, request: { signal } }));
    return res ? { sha: res.data.object.sha, type: res.data.object.type } : undefined;
  }

  /** Creates `refs/<ref>` at `sha`; when it exists already (a lost race), answers what it points at. */
  async function ensureRef(ref: string, sha: string, signal?: AbortSignal): Promise<{ sha: string; type: string; created: boolean }> {
    try {
      await github.rest.git.createRef({ owner, repo, ref: `refs/${ref}`, sha, request: { signal } });
      return { sha, type: 'commit', created: true };
    } catch (err) {
      if (statusOf(err) !== 422) throw err;
      const now = await readRef(ref, signal);
      if (!now) throw err;
      return { ...now, created: false };
    }
  }

  /** The pull request from `branch` into the base branch: the open one, else the newest. */
  async function pullFrom(branch: string, signal?: AbortSignal) {
    const res = await github.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, base, state: 'all', per_page: perPage, request: { signal } });
    const pulls = res.data.filter((p) => p.head.ref === branch);
    return pulls.find((p) => p.state === 'open') ?? pulls.sort((a, b) => b.number - a.number)[0];
  }

  return {
    /**
     * The newest release of `app`: the GitHub Release whose tag is `<app>-<date>` with the
     * latest date (every page of releases is read; drafts are not releases). Undefined
     * when the app was never released.
     */
    async previousRelease(input: PreviousReleaseInput): Promise<ReleaseInfo | undefined> {
      if (input.before !== undefined && !RELEASE_DATE.test(input.before)) {
        throw new BadInput(`"${input.before}" is not a release date (YYYY.MM.DD.HH.MM.SS)`);
      }
      return run(`finding the previous release of ${input.app} in ${where}`, async (signal) => {
        const releases = (await allReleases(signal))
          .filter((r) => !r.draft)
          .map(releaseInfo)
          .filter((r): r is ReleaseInfo => r !== undefined && r.app === input.app)
          .filter((r) => input.before === undefined || r.date < input.before)
          .filter((r) => !input.skipFailed || !r.failed);
        return releases.sort(newestFirst)[0];
      });
    },

    /**
     * Pull requests merged into the base branch with the app's label, after `since` and
     * up to `until`, oldest merge first (search API, every page; GitHub's search stops at
     * 1000 results). A search GitHub reports incomplete fails retryably.
     */
    async mergedPullsSince(input: MergedPullsInput): Promise<MergedPull[]> {
      const since = parseTime(input.since, 'since');
      const until = parseTime(input.until, 'until');
      const label = input.label ?? appLabel(input.app, deps.appLabels);
      if (label.includes('"')) throw new BadInput(`label ${label} cannot be searched for: it contains '"'`);
      const dates =
        since !== undefined && until !== undefined
          ? ` merged:${searchTime(since)}..${searchTime(until, true)}`
          : since !== undefined
            ? ` merged:>${searchTime(since)}`
            : until !== undefined
              ? ` merged:<=${searchTime(until, true)}`
              : '';
      const q = `repo:${owner}/${repo} is:pr is:merged base:${base} label:"${label}"${dates}`;
      return run(`searching ${where} for pull requests labelled "${label}"`, async (signal) => {
        // Paged by hand: Octokit's paginate takes the first key after `total_count` and
        // `incomplete_results` for the item list, and search answers also carry `search_type`.
        let incomplete = false;
        const items: Awaited<ReturnType<typeof github.rest.search.issuesAndPullRequests>>['data']['items'] = [];
        for (let page = 1; ; page++) {
          const res = await github.rest.search.issuesAndPullRequests({ q, sort: 'created', order: 'asc', per_page: perPage, page, request: { signal } });
          incomplete ||= res.data.incomplete_results;
          items.push(...res.data.items);
          if (res.data.items.length < perPage || page * perPage >= Math.min(res.data.total_count, SEARCH_LIMIT)) break;
        }
        if (incomplete) throw new Error(`GitHub's search for "${q}" timed out with incomplete results; retrying`);
        const seen = new Set<number>();
        const pulls: MergedPull[] = [];
        for (const item of items) {
          const mergedAt = item.pull_request?.merged_at;
          if (!mergedAt || seen.has(item.number)) continue;
          const ms = Date.parse(mergedAt);
          // The query works in whole seconds and its range is inclusive: exact bounds here.
          if ((since !== undefined && ms <= since) || (until !== undefined && ms > until)) continue;
          seen.add(item.number);
          pulls.push({
            number: item.number,
            title: item.title,
            author: item.user?.login ?? 'ghost',
            labels: item.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
            mergedAt,
            url: item.html_url,
          });
        }
        return pulls.sort((a, b) => Date.parse(a.mergedAt) - Date.parse(b.mergedAt) || a.number - b.number);
      });
    },

    /**
     * The newest release of `app` that released commit `sha`: by Slipway's marker in the
     * body or a full-SHA target, else by its tag pointing at the commit (one listing of
     * the app's tags). Undefined when there is none — a tag without a release does not
     * count. So a second release request for the same image answers with the first.
     */
    async findReleaseForCommit(input: FindReleaseInput): Promise<ReleaseInfo | undefined> {
      const sha = checkSha(input.sha);
      return run(`looking for a release of ${input.app} at ${sha.slice(0, 7)} in ${where}`, async (signal) => {
        const releases = (await allReleases(signal))
          .filter((r) => !r.draft)
          .map(releaseInfo)
          .filter((r): r is ReleaseInfo => r !== undefined && r.app === input.app)
          .sort(newestFirst);
        const direct = releases.find((r) => r.sha === sha);
        if (direct) return direct;
        const refs = await github.rest.git.listMatchingRefs({ owner, repo, ref: `tags/${input.app}-`, request: { signal } });
        const tagged = new Set(refs.data.filter((r) => r.object.sha === sha).map((r) => r.ref.replace(/^refs\/tags\//, '')));
        const byTag = releases.find((r) => tagged.has(r.name));
        return byTag ? { ...byTag, sha } : undefined;
      });
    },

    /**
     * Tags `sha` as `<app>-<date>` (a lightweight tag) and publishes the GitHub Release of
     * that tag, its body the notes, who released, and the hidden marker
     * `<!-- slipway: app=<app> sha=<sha> -->`. An existing tag at the same commit and an
     * existing release of the tag are reused (`created: false`); a tag at another commit
     * is refused with ClientRejected.
     */
    async createRelease(input: CreateReleaseInput): Promise<CreateReleaseResult> {
      const sha = checkSha(input.sha);
      const parsed = parseReleaseName(input.name);
      if (!parsed || parsed.app !== input.app) {
        throw new BadInput(`"${input.name}" is not a release name of ${input.app} (expected ${input.app}-YYYY.MM.DD.HH.MM.SS)`);
      }
      const name = input.name;
      const actor = String(input.actor ?? '')
        .trim()
        .replace(/^@+/, '');
      return run(`releasing ${name} at ${sha.slice(0, 7)} in ${where}`, async (signal) => {
        // The tag first: it is what says which commit the release is.
        let tag = await readRef(`tags/${name}`, signal);
        let created = false;
        if (!tag) {
          const made = await ensureRef(`tags/${name}`, sha, signal);
          tag = made;
          created = made.created;
        }
        if (tag.sha !== sha) {
          const what = tag.type === 'commit' ? `commit ${tag.sha.slice(0, 7)}` : `${tag.type} object ${tag.sha.slice(0, 7)}`;
          throw new ClientRejected(`tag ${name} already exists in ${where} at ${what}, not at ${sha.slice(0, 7)}; tags are never moved: release again under a new date`);
        }

        let rel: RawRelease | undefined = (await unless404(github.rest.repos.getReleaseByTag({ owner, repo, tag: name, request: { signal } })))?.data;
        if (!rel) {
          const body = [input.body.replace(/\s+$/, ''), actor ? `Released by @${actor}.` : '', releaseMarker(input.app, sha)].filter(Boolean).join('\n\n');
          try {
            rel = (
              await github.rest.repos.createRelease({
                owner,
                repo,
                tag_name: name,
                name,
                target_commitish: sha,
                body: `${body}\n`,
                draft: false,
                prerelease: false,
                request: { signal },
              })
            ).data;
            created = true;
          } catch (err) {
            // Lost a race, or a draft holds the tag: answer with that release.
            if (statusOf(err) !== 422) throw err;
            rel = (await allReleases(signal)).find((r) => r.tag_name === name);
            if (!rel) throw err;
          }
        }
        const marker = readReleaseMarker(rel.body);
        if (marker && marker.sha !== sha) {
          throw new ClientRejected(`release ${name} in ${where} says it released ${marker.sha.slice(0, 7)}, not ${sha.slice(0, 7)}`);
        }
        const info = releaseInfo(rel)!;
        return { ...info, sha, created };
      });
    },

    /**
     * Puts a failure notice at the top of a release's body (when its production deploy
     * failed). A release that already has one is left as it is (`changed: false`).
     */
    async markReleaseFailed(input: MarkReleaseFailedInput): Promise<MarkReleaseFailedResult> {
      if (!Number.isSafeInteger(input.releaseId) || input.releaseId <= 0) throw new BadInput(`"${String(input.releaseId)}" is not a release id`);
      const what = `marking release ${input.releaseId} of ${where} as failed`;
      return run(what, async (signal) => {
        const found = await unless404(github.rest.repos.getRelease({ owner, repo, release_id: input.releaseId, request: { signal } }));
        if (!found) throw new NotFound(`${what}: there is no release ${input.releaseId} in ${where}`);
        const rel = found.data;
        if (isMarkedFailed(rel.body)) return { id: rel.id, url: rel.html_url, changed: false };
        const updated = await github.rest.repos.updateRelease({
          owner,
          repo,
          release_id: rel.id,
          body: withFailureNotice(rel.body, input.reason),
          request: { signal },
        });
        return { id: updated.data.id, url: updated.data.html_url, changed: true };
      });
    },

    /**
     * Opens the changelog pull request: branch `changelog/<app>-<date>` from the base
     * branch's head, the file `documentation/changelogs/<app>/<date>.md` committed on it,
     * and the pull request into the base branch pinging the actor. Each step reuses what
     * exists: a pull request from that branch in any state (a closed one was the
     * maintainers' decision: it is answered, not reopened), the branch, a file already
     * holding the same text.
     */
    async openChangelogPr(input: OpenChangelogPrInput): Promise<ChangelogPr> {
      const branch = changelogBranch(input.app, input.date);
      const path = changelogPath(input.app, input.date);
      const title = changelogTitle(input.app, input.date);
      const text = changelogFile(input.date, input.notes);
      const body = changelogBody(input.actor, input.releaseUrl);
      return run(`opening the changelog pull request for ${input.app}-${input.date} in ${where}`, async (signal) => {
        const answer = (p: { number: number; html_url: string; state: string }, created: boolean): ChangelogPr => ({
          number: p.number,
          url: p.html_url,
          state: p.state === 'open' ? 'open' : 'closed',
          branch,
          path,
          created,
        });
        const existing = await pullFrom(branch, signal);
        if (existing) return answer(existing, false);

        if (!(await readRef(`heads/${branch}`, signal))) {
          const head = await readRef(`heads/${base}`, signal);
          if (!head) throw new NotFound(`branch ${base} of ${where} was not found`);
          await ensureRef(`heads/${branch}`, head.sha, signal);
        }

        const readFile = async () => {
          const file = (await unless404(github.rest.repos.getContent({ owner, repo, path, ref: branch, request: { signal } })))?.data;
          if (Array.isArray(file) || (file && file.type !== 'file')) throw new ClientRejected(`${path} on ${branch} in ${where} is not a file`);
          return { sha: file?.sha, text: file && 'content' in file ? Buffer.from(file.content, 'base64').toString('utf8') : undefined };
        };
        const file = await readFile();
        if (file.text !== text) {
          try {
            await github.rest.repos.createOrUpdateFileContents({
              owner,
              repo,
              path,
              branch,
              message: title,
              content: Buffer.from(text, 'utf8').toString('base64'),
              ...(file.sha ? { sha: file.sha } : {}),
              request: { signal },
            });
          } catch (err) {
            // A write whose answer was lost and was sent again finds the file written ("sha wasn't supplied", a conflict).
            if ((statusOf(err) !== 422 && statusOf(err) !== 409) || (await readFile()).text !== text) throw err;
          }
        }

        try {
          const pr = await github.rest.pulls.create({ owner, repo, head: branch, base, title, body, request: { signal } });
          return answer(pr.data, true);
        } catch (err) {
          if (statusOf(err) !== 422) throw err;
          const raced = await pullFrom(branch, signal);
          if (raced) return answer(raced, false);
          throw err;
        }
      });
    },
  };
}

export type ReleaseActivities = ReturnType<typeof createReleaseActivities>;
