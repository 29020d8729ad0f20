/**
 * Image tags. Slipway accepts what the OCI distribution spec accepts for a tag
 * (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`) and nothing else: no whitespace, no path
 * segments, no digests, no shell metacharacters.
 */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Returns a message saying what is wrong with the tag, or undefined when it is well formed. */
export function tagProblem(tag: unknown): string | undefined {
  if (typeof tag !== 'string' || tag.length === 0) return 'an image tag is required (e.g. a full commit SHA)';
  if (tag.length > 128) return `image tag is ${tag.length} characters long; at most 128 are allowed`;
  if (!TAG.test(tag)) {
    const shown = JSON.stringify(tag.length > 60 ? `${tag.slice(0, 60)}…` : tag);
    return `${shown} is not a valid image tag: use letters, digits, '_', '.' and '-' (not starting with '.' or '-')`;
  }
  return undefined;
}

/** Short form of a tag for summaries: a 40-character commit SHA becomes its first 7 characters. */
export function shortTag(tag: string): string {
  return /^[0-9a-f]{40}$/.test(tag) ? tag.slice(0, 7) : tag;
}
