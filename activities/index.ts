/** All activities, built over injected clients: the worker passes real ones, tests pass sandboxes. */
import { createConfigActivities, type ConfigDeps } from './config';
import { createEcsActivities, type EcsDeps } from './ecs';

export type ActivityDeps = ConfigDeps & EcsDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createConfigActivities(deps),
    ...createEcsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
