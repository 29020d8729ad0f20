/**
 * The whole local world Slipway talks to, started together: the ECS sandbox with the
 * Openverse services, the CNCF registry with their images, the GitHub sandbox with the
 * maintainers team, and the staging/production sites whose version endpoints report what
 * the ECS sandbox runs. `configRaw()` is the shipped Openverse config pointed at it all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEcsSandbox, type EcsSandbox } from './ecs';
import { startGitHubSandbox, type GitHubSandbox } from './github';
import { seedOpenverse } from './openverse';
import { seedImages, startRegistry, type SandboxRegistry } from './registry';
import { openverseSites, siteUrls, startSite, type SandboxSite } from './site';
import { REPO_ROOT } from './tools';

export const MAINTAINERS = ['alice', 'bob', 'octocat'];
export const OUTSIDER = 'mallory';

export interface World {
  ecs: EcsSandbox;
  registry: SandboxRegistry;
  github: GitHubSandbox;
  site: SandboxSite;
  /** Environment variables the worker needs (the GitHub token). */
  workerEnv: Record<string, string>;
  /** `<registry>/wordpress/<name>` for each Openverse image repository name. */
  repositories: string[];
  /** Pushes `tags` for every image of every app. */
  pushTags(...tags: string[]): Promise<void>;
  /** The shipped config, pointed at this world (a plain object to mutate or serialise). */
  configRaw(): any;
  close(): Promise<void>;
}

export interface WorldOptions {
  timing?: Partial<{ taskStartMs: number; healthyMs: number; drainMs: number }>;
  ports?: { ecs?: number };
  /** The tag every service runs at the start (pushed to the registry too). */
  initialTag: string;
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  const [ecs, registry, github] = await Promise.all([
    startEcsSandbox({ timing: opts.timing, port: opts.ports?.ecs }),
    startRegistry(),
    startGitHubSandbox(),
  ]);
  await seedOpenverse(ecs, { initialTag: opts.initialTag });
  // Sites serve what finished rolling out, as a load balancer does: a failing revision never shows.
  const site = await startSite({ ecs, sites: [...openverseSites], serve: 'completed' });
  github.addTeam('WordPress', 'openverse-maintainers', MAINTAINERS, { pending: ['carol'] });
  github.addUser(OUTSIDER);
  github.addRepo('WordPress', 'openverse');

  const base = parseYaml(readFileSync(join(REPO_ROOT, 'config', 'openverse.yaml'), 'utf8'));
  const repositories = Object.values(base.apps as Record<string, { images: Record<string, string> }>)
    .flatMap((a) => Object.values(a.images))
    .map((r) => r.replace(/^ghcr\.io\//, `${registry.host}/`));
  const pushTags = (...tags: string[]) => seedImages(registry.url, repositories, tags);
  await pushTags(opts.initialTag);

  return {
    ecs,
    registry,
    github,
    site,
    workerEnv: { GITHUB_TOKEN: github.token },
    repositories,
    pushTags,
    configRaw() {
      const raw = parseYaml(readFileSync(join(REPO_ROOT, 'config', 'openverse.yaml'), 'utf8'));
      raw.aws = { ...raw.aws, endpoint: ecs.url };
      raw.github = { ...raw.github, apiUrl: github.url };
      raw.registries = { [registry.host]: { insecure: true } };
      const urls = siteUrls(site);
      for (const [appName, app] of Object.entries<any>(raw.apps)) {
        for (const [key, repo] of Object.entries<string>(app.images)) app.images[key] = repo.replace(/^ghcr\.io\//, `${registry.host}/`);
        for (const [envName, env] of Object.entries<any>(app.environments ?? {})) {
          const u = urls[appName]?.[envName];
          if (u) Object.assign(env, u);
        }
      }
      // No Slack webhook and no GitHub deployments unless a test adds them (deployments
      // need the tags to be commits of the sandbox repository).
      raw.notifications = { githubDeployments: false };
      return raw;
    },
    async close() {
      await site.close();
      await Promise.all([ecs.close(), registry.close(), github.close()]);
    },
  };
}
