/** GitHub's issue search (`GET /search/issues`): the query's qualifiers, applied to the pull requests. */
import { searchItem } from './bodies';
import { dateTest, type Handler, ok, paginate, validationFailed } from './router';
import type { Repo } from './state';
import type { SandboxPull } from './types';

interface SearchQuery {
  repos: string[];
  kind?: 'pr' | 'issue';
  state?: 'open' | 'closed';
  merged?: boolean;
  /** Each entry: any of these labels (a comma list); all entries must hold. */
  labels: string[][];
  notLabels: string[];
  authors: string[];
  base?: string;
  head?: string;
  dates: { field: 'merged' | 'created' | 'updated' | 'closed'; test: (ms: number) => boolean }[];
  text: string[];
}

function parseSearch(q: string): SearchQuery {
  const out: SearchQuery = { repos: [], labels: [], notLabels: [], authors: [], dates: [], text: [] };
  const tokens = /(-?)([a-zA-Z_-]+):("[^"]*"(?:,"[^"]*")*|\S+)|"([^"]*)"|(\S+)/g;
  const unquote = (v: string) => v.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((x) => x.replace(/^"|"$/g, ''));
  for (const m of q.matchAll(tokens)) {
    if (m[4] !== undefined || m[5] !== undefined) {
      out.text.push((m[4] ?? m[5]).toLowerCase());
      continue;
    }
    const negated = m[1] === '-';
    const key = m[2].toLowerCase();
    const value = m[3];
    const values = unquote(value);
    if (key === 'repo') out.repos.push(values[0].toLowerCase());
    else if ((key === 'is' || key === 'type') && (value === 'pr' || value === 'issue')) out.kind = value;
    else if (key === 'is' && value === 'merged') out.merged = true;
    else if (key === 'is' && value === 'unmerged') out.merged = false;
    else if ((key === 'is' || key === 'state') && (value === 'open' || value === 'closed')) out.state = value;
    else if (key === 'label') {
      if (negated) out.notLabels.push(...values);
      else out.labels.push(values);
    } else if (key === 'author') out.authors.push(values[0].toLowerCase());
    else if (key === 'base') out.base = values[0];
    else if (key === 'head') out.head = values[0];
    else if (key === 'merged' || key === 'created' || key === 'updated' || key === 'closed') {
      const test = dateTest(value);
      if (!test) throw validationFailed({ resource: 'Search', field: 'q', code: 'invalid', message: `The date "${value}" is not valid.` });
      out.dates.push({ field: key, test });
    } else out.text.push(m[0].toLowerCase());
  }
  return out;
}

export const searchIssues: Handler = (w, ctx) => {
  const q = ctx.query.get('q');
  if (!q) throw validationFailed({ resource: 'Search', field: 'q', code: 'missing' });
  const s = parseSearch(q);
  const hits: { repo: Repo; pull: SandboxPull }[] = [];
  for (const repo of w.repos.values()) {
    if (s.repos.length && !s.repos.includes(`${repo.owner.login}/${repo.name}`.toLowerCase())) continue;
    if (s.kind === 'issue') continue; // the sandbox holds pull requests only
    for (const pull of repo.pulls) {
      if (s.state && pull.state !== s.state) continue;
      if (s.merged !== undefined && (pull.mergedAt !== null) !== s.merged) continue;
      if (s.merged === false && pull.state !== 'closed') continue;
      if (!s.labels.every((anyOf) => anyOf.some((l) => pull.labels.some((x) => x.toLowerCase() === l.toLowerCase())))) continue;
      if (s.notLabels.some((l) => pull.labels.some((x) => x.toLowerCase() === l.toLowerCase()))) continue;
      if (s.authors.length && !s.authors.includes(pull.user.toLowerCase())) continue;
      if (s.base && pull.baseRef !== s.base) continue;
      if (s.head && pull.headRef !== s.head) continue;
      const when = { merged: pull.mergedAt, created: pull.createdAt, updated: pull.updatedAt, closed: pull.closedAt };
      if (!s.dates.every((d) => when[d.field] !== null && d.test(when[d.field]!))) continue;
      const haystack = `${pull.title}\n${pull.body ?? ''}`.toLowerCase();
      if (!s.text.every((t) => haystack.includes(t))) continue;
      hits.push({ repo, pull });
    }
  }
  const sort = ctx.query.get('sort');
  const sign = ctx.query.get('order') === 'asc' ? 1 : -1;
  const key = (p: SandboxPull) => (sort === 'created' ? p.createdAt : sort === 'updated' ? p.updatedAt : p.number);
  hits.sort((a, b) => sign * (key(a.pull) - key(b.pull) || a.pull.id - b.pull.id));
  const page = paginate(w, ctx, hits);
  return ok(
    {
      total_count: hits.length,
      incomplete_results: false,
      search_type: 'lexical',
      items: page.items.map((h) => searchItem(w, h.repo, h.pull)),
    },
    page.headers,
  );
};
