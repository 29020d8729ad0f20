/** Requests, replies and routes: GitHub's error answers, the handler signature, path matching, query parameters, pagination. */
import type { World } from './state';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A GitHub error answer thrown from a handler: `{ message, documentation_url, status, errors? }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, unknown>[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = () => new HttpError(404, 'Not Found');
export const validationFailed = (...errors: Record<string, unknown>[]) => new HttpError(422, 'Validation Failed', errors);
export const unprocessable = (message: string) => new HttpError(422, message);

export type Body = Record<string, any>;

export interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Body;
  /** The path as sent (percent-encoded), for pagination links. */
  path: string;
}

export type Handler = (w: World, ctx: Ctx) => Reply;

export interface Route {
  method: string;
  /** Exactly as in the OpenAPI description: the key of the operation's schemas. */
  path: string;
  handler: Handler;
}

/** Parameters that may span several path segments (`heads/feature/x`, `docs/a/b.md`) when last. */
const MULTI_SEGMENT_PARAMS = new Set(['ref', 'path']);

export interface CompiledRoute extends Route {
  key: string;
  regex: RegExp;
  names: string[];
}

export function compileRoute(route: Route): CompiledRoute {
  const names: string[] = [];
  const segments = route.path.split('/').map((seg, i, all) => {
    const m = /^\{(\w+)\}$/.exec(seg);
    if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    names.push(m[1]);
    return i === all.length - 1 && MULTI_SEGMENT_PARAMS.has(m[1]) ? '(.+)' : '([^/]+)';
  });
  return { ...route, key: `${route.method} ${route.path}`, regex: new RegExp(`^${segments.join('/')}/?$`), names };
}

export function matchRoute(routes: CompiledRoute[], method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
    } catch {
      continue;
    }
    return { route, params };
  }
  return undefined;
}

function int(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** One page of `items` and GitHub's `Link` header (first/prev/next/last), `per_page` ≤ 100. */
export function paginate<T>(w: World, ctx: Ctx, items: T[], defaultPerPage = 30): { items: T[]; headers: Record<string, string> } {
  const requested = int(ctx.query.get('per_page'));
  const perPage = Math.min(100, requested && requested > 0 ? requested : defaultPerPage);
  const page = Math.max(1, int(ctx.query.get('page')) ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const q = new URLSearchParams(ctx.query);
    q.set('per_page', String(perPage));
    q.set('page', String(n));
    return `<${w.api}${ctx.path}?${q}>; rel="${rel}"`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) rels.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) rels.push(link(1, 'first'));
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: rels.length ? { link: rels.join(', ') } : {},
  };
}

export function ok(body: unknown, headers?: Record<string, string>): Reply {
  return { status: 200, body, headers };
}

export function created(body: unknown, location?: string): Reply {
  return { status: 201, body, headers: location ? { location } : undefined };
}

/** `>2024-01-01T00:00:00Z`, `>=…`, `<…`, `<=…`, `a..b`, or a plain date (that day). */
export function dateTest(value: string): ((ms: number) => boolean) | undefined {
  const dayOnly = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
  const start = (s: string) => Date.parse(dayOnly(s) ? `${s}T00:00:00Z` : s);
  const end = (s: string) => (dayOnly(s) ? Date.parse(`${s}T00:00:00Z`) + 86_400_000 - 1 : Date.parse(s));
  const range = /^(.+)\.\.(.+)$/.exec(value);
  if (range) {
    const [a, b] = [range[1] === '*' ? -Infinity : start(range[1]), range[2] === '*' ? Infinity : end(range[2])];
    return Number.isNaN(a) || Number.isNaN(b) ? undefined : (ms) => ms >= a && ms <= b;
  }
  const m = /^(>=|<=|>|<)?(.+)$/.exec(value)!;
  const op = m[1] ?? '';
  const v = m[2];
  const [s, e] = [start(v), end(v)];
  if (Number.isNaN(s) || Number.isNaN(e)) return undefined;
  switch (op) {
    case '>':
      return (ms) => ms > e;
    case '>=':
      return (ms) => ms >= s;
    case '<':
      return (ms) => ms < s;
    case '<=':
      return (ms) => ms <= e;
    default:
      return (ms) => ms >= s && ms <= e;
  }
}
