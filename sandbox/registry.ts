/**
 * The real CNCF distribution registry (Debian's `docker-registry`, v2.8) on 127.0.0.1 with
 * storage in a temporary directory, and helpers that push small images and multi-platform
 * image indexes into it over the distribution API (no layers worth pulling: a config blob
 * and one tiny layer per image).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './temporal';
import { toolPath } from './tools';

export interface SandboxRegistry {
  /** Base URL: `http://127.0.0.1:<port>`. */
  url: string;
  /** Registry host for image references: `127.0.0.1:<port>` (pass it in `insecureHosts`). */
  host: string;
  port: number;
  /** Storage and config directory (removed by `close`). */
  dir: string;
  process: ChildProcess;
  /** Stops the registry (SIGTERM, then SIGKILL) and removes its directory. */
  close(): Promise<void>;
}

export async function startRegistry(opts: { stdio?: 'ignore' | 'inherit' } = {}): Promise<SandboxRegistry> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'slipway-registry-'));
  const configPath = join(dir, 'config.yml');
  writeFileSync(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(join(dir, 'data'))}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawn(toolPath('REGISTRY_PATH'), ['serve', configPath], {
    stdio: ['ignore', opts.stdio ?? 'ignore', opts.stdio ?? 'ignore'],
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === undefined) {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry exited with code ${exited} (config ${configPath})`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`docker-registry on ${url} did not answer within 30 s: ${(err as Error).message}`, { cause: err });
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url, host: `127.0.0.1:${port}`, port, dir, process: child, close: stop };
}

// ---------------------------------------------------------------------------------------
// Pushing content
// ---------------------------------------------------------------------------------------

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Pushed {
  mediaType: string;
  digest: string;
  /** The manifest's bytes as pushed. */
  bytes: Buffer;
}

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The repository name inside the registry: `name` itself, or `name` without the `<host>/` of `url`. */
function repoName(url: string, name: string): string {
  const host = new URL(url).host;
  return name.startsWith(`${host}/`) ? name.slice(host.length + 1) : name;
}

async function expectStatus(res: Response, expected: number, what: string): Promise<void> {
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${what}: expected ${expected}, got ${res.status}: ${text.slice(0, 300)}`);
}

/** Uploads a blob (POST to start the upload, PUT with the digest to finish it). */
export async function pushBlob(url: string, name: string, bytes: Uint8Array | string): Promise<Descriptor & { mediaType: 'application/octet-stream' }> {
  const repo = repoName(url, name);
  const body = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  const digest = sha256(body);
  const started = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await expectStatus(started, 202, `starting a blob upload to ${repo}`);
  const location = new URL(started.headers.get('location') ?? '', url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
  await expectStatus(put, 201, `finishing the upload of ${digest} to ${repo}`);
  return { mediaType: 'application/octet-stream', digest, size: body.length };
}

/** PUTs a manifest under a tag or its digest. */
export async function pushManifest(url: string, name: string, reference: string, mediaType: string, bytes: Buffer): Promise<Pushed> {
  const repo = repoName(url, name);
  const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: bytes });
  await expectStatus(res, 201, `pushing manifest ${repo}:${reference}`);
  return { mediaType, digest: sha256(bytes), bytes };
}

/**
 * Serialises like a real tool would but not like `JSON.stringify` does by default, so a
 * client that re-serialised a manifest instead of copying its bytes would change the digest.
 */
function manifestBytes(doc: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 3)}\n`);
}

function parsePlatform(platform: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = platform.split('/');
  if (!os || !architecture) throw new Error(`platform ${JSON.stringify(platform)} is not os/architecture[/variant]`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** Pushes the config and layer of a small image and returns its OCI manifest (not yet pushed). */
async function imageManifest(url: string, name: string, opts: { platform?: string; content?: string }): Promise<Buffer> {
  const platform = parsePlatform(opts.platform ?? 'linux/amd64');
  const layer = await pushBlob(url, name, opts.content ?? `${repoName(url, name)} for ${opts.platform ?? 'linux/amd64'}\n`);
  const config = await pushBlob(url, name, JSON.stringify({ ...platform, config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } }));
  return manifestBytes({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
    layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
  });
}

/** Pushes a single-platform OCI image (config blob, one layer, manifest) under `tag`. */
export async function pushImage(url: string, name: string, tag: string, opts: { platform?: string; content?: string } = {}): Promise<Pushed> {
  return pushManifest(url, name, tag, OCI_MANIFEST, await imageManifest(url, name, opts));
}

/** Pushes one image per platform (by digest) and an OCI image index over them under `tag`. */
export async function pushIndex(url: string, name: string, tag: string, platforms: string[]): Promise<Pushed & { manifests: (Descriptor & { platform: string })[] }> {
  const manifests: (Descriptor & { platform: string })[] = [];
  for (const platform of platforms) {
    const bytes = await imageManifest(url, name, { platform, content: `${repoName(url, name)}:${tag} for ${platform}\n` });
    const pushed = await pushManifest(url, name, sha256(bytes), OCI_MANIFEST, bytes);
    manifests.push({ mediaType: OCI_MANIFEST, digest: pushed.digest, size: bytes.length, platform });
  }
  const index = manifestBytes({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: manifests.map((m) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform: parsePlatform(m.platform) })),
  });
  return { ...(await pushManifest(url, name, tag, OCI_INDEX, index)), manifests };
}

/** Pushes a distinct small image for every (repository, tag). Repositories may carry the registry host. */
export async function seedImages(url: string, repositories: string[], tags: string[]): Promise<void> {
  await Promise.all(
    repositories.map(async (repository) => {
      for (const tag of tags) await pushImage(url, repository, tag, { content: `${repoName(url, repository)}:${tag}\n` });
    }),
  );
}
