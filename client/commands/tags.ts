/**
 * slipway tags <app> [--limit N] — the image tags in the registry that can be deployed
 * (present for every image of the app), with the release aliases (`rel-…`) and what they
 * point at. Registry credentials come from the environment variables the config names.
 */
import { appImages } from '../../domain/config';
import { ClientRejected } from '../../domain/errors';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { parseLimit, table } from './status';

/** Release aliases: `rel-<YYYY.MM.DD.HH.MM.SS>`. */
const RELEASE_ALIAS = /^rel-/;

export interface TagEntry {
  tag: string;
  releaseAlias: boolean;
  /** For a release alias: the shown non-alias tag with the same manifest (on the app's first image). */
  aliasOf?: string;
  digest?: string;
}

export async function tagsCommand(ctx: Context, args: string[], flags: { limit?: string }): Promise<number> {
  if (args.length !== 1) throw new UsageError(`tags takes <app>; got ${args.length} argument(s). Run 'slipway help tags'.`);
  const [app] = args;
  const limit = parseLimit(flags.limit, 30);
  const config = ctx.config();
  const images = appImages(config, app); // names the valid apps when unknown
  const { registryClient } = await import('../../activities/clients');
  const registry = registryClient(config, ctx.env);

  const lists = await Promise.all(images.map((i) => registry.listTags(i.repository).catch((err) => outside(err))));
  const everywhere = lists[0].filter((t) => lists.every((l) => l.includes(t)));
  const partial = [...new Set(lists.flat())]
    .filter((t) => !everywhere.includes(t))
    .map((tag) => ({ tag, missing: images.filter((_, n) => !lists[n].includes(tag)).map((i) => i.repository) }));
  const aliases = everywhere
    .filter((t) => RELEASE_ALIAS.test(t))
    .sort()
    .reverse();
  const commits = everywhere.filter((t) => !RELEASE_ALIAS.test(t));
  const shown = [...aliases, ...commits].slice(0, limit);

  // Which commit an alias points at: compare manifest digests of the shown tags on the first image.
  const digests = await mapLimited(shown, 8, (t) => registry.tagDigest(images[0].repository, t).catch((err) => outside(err)));
  const byDigest = new Map<string, string>();
  shown.forEach((t, n) => {
    if (!RELEASE_ALIAS.test(t) && digests[n] && !byDigest.has(digests[n]!)) byDigest.set(digests[n]!, t);
  });
  const tags: TagEntry[] = shown.map((tag, n) => {
    const releaseAlias = RELEASE_ALIAS.test(tag);
    const aliasOf = releaseAlias && digests[n] ? byDigest.get(digests[n]!) : undefined;
    return { tag, releaseAlias, ...(aliasOf && { aliasOf }), ...(digests[n] && { digest: digests[n] }) };
  });

  const names = images.map((i) => i.repository.slice(i.repository.lastIndexOf('/') + 1));
  const lines = [
    `${app} (${names.join(', ')}): ${everywhere.length} tag(s) on every image, ${aliases.length} of them release aliases`,
    ...(tags.length
      ? [
          '',
          table(
            ['TAG', 'NOTE'],
            tags.map((t) => [t.tag, t.releaseAlias ? `release alias${t.aliasOf ? ` of ${t.aliasOf}` : ''}` : '']),
          ),
        ]
      : []),
    ...(everywhere.length > shown.length ? [`… ${everywhere.length - shown.length} more (--limit)`] : []),
    ...(partial.length ? ['', 'Not on every image (cannot be deployed):', ...partial.slice(0, limit).map((p) => `  ${p.tag}: missing on ${p.missing.join(', ')}`)] : []),
  ];
  ctx.result(lines.join('\n'), { app, images, total: everywhere.length, tags, partial });
  return EXIT.ok;
}

/** A registry that cannot be asked: reported in one line, not as a crash. */
function outside(err: unknown): never {
  const e = err as Error;
  if (e?.name === 'RegistryUnavailable') throw new ClientRejected(e.message);
  throw err;
}

async function mapLimited<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
