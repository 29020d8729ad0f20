/** All activities, built over injected clients: the worker passes real ones, tests pass sandboxes. */
import type { Octokit } from '@octokit/rest';
import type { Client } from '@temporalio/client';
import type { SlipwayConfig } from '../domain/config';
import { BadInput } from '../domain/errors';
import { createAuthzActivities } from './authz';
import { createConfigActivities } from './config';
import type { OidcVerifierOptions } from './identity';
import { createEcsActivities, type EcsDeps } from './ecs';
import { createGitActivities } from './git';
import { createNotificationActivities } from './notifications';
import { createGateActivities } from './gates';
import { createReleaseActivities } from './release';
import { createRegistryActivities, type RegistryClient } from './registry';
import { createTemporalActivities } from './temporal';
import { createVersionActivities } from './version';

export interface ActivityDeps extends EcsDeps {
  config: () => SlipwayConfig;
  registry: RegistryClient;
  github?: Octokit;
  /** A Temporal client for the activities that signal, query or cancel other workflows. */
  client: Client;
  /** Version endpoint reads (tests inject a shorter timeout). */
  versionTimeoutMs?: number;
  /** The worker's environment: where secrets (webhook URL) are read from. */
  env: NodeJS.ProcessEnv;
  /** Chromium for the Playwright gate (workers without one cannot run the gate). */
  chromiumPath?: string;
  /** How ID-token signing keys are fetched and cached. */
  oidc?: OidcVerifierOptions;
}

/** Release activities need the configured repository and a token; without them each call says so. */
function releaseActivities(deps: ActivityDeps) {
  const cfg = deps.config();
  if (deps.github && cfg.github) return createReleaseActivities({ github: deps.github, owner: cfg.github.owner, repo: cfg.github.repo });
  const missing = async (): Promise<never> => {
    throw new BadInput(cfg.github ? `releasing needs a GitHub token: set $${cfg.github.tokenEnv} for the worker` : 'releasing needs a `github` section (repository) in the config');
  };
  return {
    previousRelease: missing,
    mergedPullsSince: missing,
    findReleaseForCommit: missing,
    createRelease: missing,
    markReleaseFailed: missing,
    openChangelogPr: missing,
  } as unknown as ReturnType<typeof createReleaseActivities>;
}

/** Ancestry needs the configured repository and a token; without them the pipeline keeps arrival order and says why. */
function gitActivities(deps: ActivityDeps) {
  const cfg = deps.config();
  if (deps.github && cfg.github) return createGitActivities({ github: deps.github, owner: cfg.github.owner, repo: cfg.github.repo });
  return {
    relateCommits: async (): Promise<never> => {
      throw new BadInput(
        cfg.github ? `git ancestry needs a GitHub token: set $${cfg.github.tokenEnv} for the worker` : 'git ancestry needs a `github` section (repository) in the config',
      );
    },
    // Without GitHub, only the reported merger is known.
    mergerOf: async () => ({}),
  } as ReturnType<typeof createGitActivities>;
}

/** Where version endpoints may be read: the origins of those the config names (test routes included). */
function versionOrigins(cfg: SlipwayConfig): Set<string> {
  const origins = new Set<string>();
  for (const app of Object.values(cfg.apps)) {
    for (const env of Object.values(app.environments ?? {})) {
      for (const endpoint of [env.versionEndpoint, env.testTraffic?.versionEndpoint]) {
        if (!endpoint) continue;
        try {
          origins.add(new URL(endpoint).origin);
        } catch {
          // the config's own rules report a malformed URL
        }
      }
    }
  }
  return origins;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createConfigActivities(deps),
    ...createEcsActivities(deps),
    ...createRegistryActivities({ registry: deps.registry }),
    ...createAuthzActivities(deps),
    ...createVersionActivities({ timeoutMs: deps.versionTimeoutMs, origins: () => versionOrigins(deps.config()) }),
    ...createTemporalActivities({ client: deps.client }),
    ...createNotificationActivities(deps),
    ...createGateActivities({ github: deps.github, chromiumPath: deps.chromiumPath }),
    ...releaseActivities(deps),
    ...gitActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
