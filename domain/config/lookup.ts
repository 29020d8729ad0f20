/** Lookups on a checked config: targets, images, deployable apps, with suggestions for typos. */
import { BadInput } from '../errors';
import { TEMPLATE_SUFFIX, type AppConfig, type EnvironmentConfig, type SlipwayConfig, type Target } from './model';

/**
 * The deployment target for `app` in `env`. Throws `BadInput` naming the valid choices
 * when the app or environment is unknown, and refusing release-only apps.
 */
export function resolveTarget(config: SlipwayConfig, app: string, env: string): Target {
  const appConfig = findApp(config, app, 'deploy');
  if (appConfig.releaseOnly) {
    throw new BadInput(`${app} is release-only: Slipway tags and releases its images, but it is deployed elsewhere, not by Slipway.`, [`app: ${app} is release-only`]);
  }
  const envConfig = Object.hasOwn(appConfig.environments, env) ? appConfig.environments[env] : undefined;
  if (!envConfig) {
    const valid = Object.keys(appConfig.environments);
    throw new BadInput(`${app} has no environment "${env}"${suggestion(env, valid)}; its environments are: ${valid.join(', ')}.`, [
      `env: ${JSON.stringify(env)} is not one of ${valid.join(', ')}`,
    ]);
  }
  return toTarget(config, appConfig, env, envConfig);
}

function toTarget(config: SlipwayConfig, app: AppConfig, env: string, e: EnvironmentConfig): Target {
  return {
    app: app.name,
    env,
    region: config.aws.region,
    cluster: e.cluster,
    service: e.service,
    templateFamily: e.templateFamily,
    family: e.templateFamily.slice(0, -TEMPLATE_SUFFIX.length),
    containers: Object.entries(e.containers).map(([name, imageKey]) => ({ name, imageKey, repository: app.images[imageKey] })),
    images: Object.entries(app.images).map(([key, repository]) => ({ key, repository })),
    ...(e.url !== undefined && { url: e.url }),
    ...(e.versionEndpoint !== undefined && { versionEndpoint: e.versionEndpoint }),
    budgetSeconds: Math.round(e.budgetMinutes * 60),
    verifyBudgetSeconds: Math.round(config.deploy.verifyBudgetMinutes * 60),
    stopType: e.stopType ?? 'ROLLBACK',
    ...(env === config.environments[config.environments.length - 1] && { production: true }),
    ...(config.aws.events && { events: { reconcileSeconds: config.aws.events.reconcileSeconds } }),
    ...(e.testTraffic && {
      testTraffic: { ...e.testTraffic, ...(e.testTraffic.playwright && app.pipeline?.gate?.playwright && { playwrightGate: app.pipeline.gate.playwright }) },
    }),
  };
}

/** The images of an app (release-only apps included), in config order. */
export function appImages(config: SlipwayConfig, app: string): { key: string; repository: string }[] {
  const appConfig = findApp(config, app, 'release');
  return Object.entries(appConfig.images).map(([key, repository]) => ({ key, repository }));
}

/** Names of the apps Slipway deploys (not release-only), in config order. */
export function deployableApps(config: SlipwayConfig): string[] {
  return Object.values(config.apps)
    .filter((a) => !a.releaseOnly)
    .map((a) => a.name);
}

/**
 * Finds an app or throws `BadInput` naming the valid ones. For `deploy`, the list names the
 * deployable apps first and the release-only ones apart.
 */
function findApp(config: SlipwayConfig, app: string, purpose: 'deploy' | 'release'): AppConfig {
  const found = Object.hasOwn(config.apps, app) ? config.apps[app] : undefined;
  if (found) return found;
  const all = Object.keys(config.apps);
  const deployable = deployableApps(config);
  const releaseOnly = all.filter((a) => !deployable.includes(a));
  const choices =
    purpose === 'deploy'
      ? `apps that can be deployed: ${deployable.join(', ') || '(none)'}` + (releaseOnly.length > 0 ? ` (release-only: ${releaseOnly.join(', ')})` : '')
      : `apps: ${all.join(', ')}`;
  throw new BadInput(`unknown app "${app}"${suggestion(app, all)}; ${config.source} defines ${choices}.`, [`app: ${JSON.stringify(app)} is not one of ${all.join(', ')}`]);
}

/** ` (did you mean "production"?)` when one choice is close to what was typed, else ''. */
function suggestion(typed: string, choices: string[]): string {
  const close = choices.filter((c) => c.startsWith(typed) || typed.startsWith(c) || editDistance(c, typed) <= 2);
  return close.length === 1 && typed.length > 0 ? ` (did you mean "${close[0]}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** The environment deployed to `cluster`/`service`, if the config has one (ECS events name services by ARN). */
export function targetOfService(config: SlipwayConfig, cluster: string, service: string): { app: string; env: string } | undefined {
  for (const app of Object.values(config.apps)) {
    for (const [env, e] of Object.entries(app.environments)) if (e.cluster === cluster && e.service === service) return { app: app.name, env };
  }
  return undefined;
}
