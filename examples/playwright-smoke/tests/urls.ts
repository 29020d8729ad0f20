/** URLs of the environment under test, from the gate's environment contract. */

/** `path` under PLAYWRIGHT_BASE_URL (which may carry a path prefix, with or without a trailing slash). */
export function siteUrl(path = ''): string {
  const base = process.env.PLAYWRIGHT_BASE_URL;
  if (!base) throw new Error('PLAYWRIGHT_BASE_URL is not set: the URL of the site under test');
  return join(base, path);
}

/** `path` under API_URL (or PLAYWRIGHT_API_URL); undefined when neither is set. */
export function apiUrl(path = ''): string | undefined {
  const base = process.env.API_URL || process.env.PLAYWRIGHT_API_URL;
  return base ? join(base, path) : undefined;
}

function join(base: string, path: string): string {
  return path ? `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}` : base;
}
