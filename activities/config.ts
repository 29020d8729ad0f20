/**
 * Config look-ups. The config file lives with the worker; the workflow asks for the one
 * (app, env) it needs, and the answer is recorded in its history.
 */
import { resolveTarget, type SlipwayConfig, type Target } from '../domain/config';

export interface ConfigDeps {
  /** The worker's current config. */
  config: () => SlipwayConfig;
}

export function createConfigActivities(deps: ConfigDeps) {
  return {
    /** The ECS target of (app, env); BadInput (naming what is valid) when there is none. */
    async resolveTarget(input: { app: string; env: string }): Promise<Target> {
      return resolveTarget(deps.config(), input.app, input.env);
    },
  };
}

export type ConfigActivities = ReturnType<typeof createConfigActivities>;
