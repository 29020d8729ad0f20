/** All activities, built over injected clients: the worker passes real ones, tests pass sandboxes. */
import type { Octokit } from '@octokit/rest';
import type { Client } from '@temporalio/client';
import type { SlipwayConfig } from '../domain/config';
import { createAuthzActivities } from './authz';
import { createConfigActivities } from './config';
import { createEcsActivities, type EcsDeps } from './ecs';
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
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createConfigActivities(deps),
    ...createEcsActivities(deps),
    ...createRegistryActivities({ registry: deps.registry }),
    ...createAuthzActivities(deps),
    ...createVersionActivities({ timeoutMs: deps.versionTimeoutMs }),
    ...createTemporalActivities({ client: deps.client }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
