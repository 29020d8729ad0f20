/**
 * Config look-ups. The config file lives with the worker; the workflow asks for the one
 * (app, env) it needs, and the answer is recorded in its history.
 */
import { appImages, resolveTarget, type PipelineConfig, type SlipwayConfig, type Target } from '../domain/config';
import { BadInput } from '../domain/errors';

export interface PipelinePlan {
  app: string;
  settings: PipelineConfig;
  staging: Target;
  production: Target;
  gateUrls?: { baseUrl?: string; apiUrl?: string };
  /** The production URLs of the production smoke suite. */
  smokeUrls?: { baseUrl?: string; apiUrl?: string };
  github?: { owner: string; repo: string };
}

export interface ReleasePlan {
  app: string;
  releaseOnly: boolean;
  images: { key: string; repository: string }[];
  /** Where a release is deployed: the app's last environment in promotion order. Absent for release-only apps. */
  production?: Target;
}

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

    /** The pipeline settings of `app` and the URLs its gate needs (BadInput when it has no pipeline). */
    async resolvePipeline(input: { app: string }): Promise<PipelinePlan> {
      const config = deps.config();
      const staging = resolveTarget(config, input.app, config.environments[0]);
      const app = config.apps[input.app];
      if (!app.pipeline) throw new BadInput(`${input.app} has no pipeline: add apps.${input.app}.pipeline to ${config.source}`);
      const production = [...config.environments].reverse().find((e) => Object.hasOwn(app.environments, e))!;
      const pw = app.pipeline.gate?.playwright;
      const urlOf = (other: string | undefined) => (other ? resolveTarget(config, other, staging.env).url : staging.url);
      const target = resolveTarget(config, input.app, production);
      const smoke = app.pipeline.productionSmoke?.playwright;
      const productionUrlOf = (other: string | undefined) => (other ? resolveTarget(config, other, production).url : target.url);
      return {
        app: input.app,
        settings: app.pipeline,
        staging,
        production: target,
        ...(pw && { gateUrls: { baseUrl: urlOf(pw.baseUrlFrom), apiUrl: pw.apiUrlFrom ? urlOf(pw.apiUrlFrom) : undefined } }),
        ...(smoke && { smokeUrls: { baseUrl: productionUrlOf(smoke.baseUrlFrom), apiUrl: smoke.apiUrlFrom ? productionUrlOf(smoke.apiUrlFrom) : undefined } }),
        github: config.github ? { owner: config.github.owner, repo: config.github.repo } : undefined,
      };
    },

    /** What releasing `app` involves: its images and, unless release-only, its production target. */
    async resolveRelease(input: { app: string }): Promise<ReleasePlan> {
      const config = deps.config();
      const images = appImages(config, input.app); // BadInput naming the apps when unknown
      const app = config.apps[input.app];
      if (app.releaseOnly) return { app: input.app, releaseOnly: true, images };
      const env = [...config.environments].reverse().find((e) => Object.hasOwn(app.environments, e));
      if (!env) throw new BadInput(`${input.app} has no environment to release to`);
      return { app: input.app, releaseOnly: false, images, production: resolveTarget(config, input.app, env) };
    },
  };
}

export type ConfigActivities = ReturnType<typeof createConfigActivities>;
