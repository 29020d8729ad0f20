/** Cross-field rules that the schema cannot express, each problem reported with its path. */
// The rules read the raw data defensively: wherever a value has the wrong shape they skip
// it (the schema has already reported it), so schema and rule problems come out together.

import { CONFIG_DEFAULTS } from './defaults';

type Dict = Record<string, unknown>;

function dict(value: unknown): Dict | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Dict) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Rules the schema cannot express (listed in `CONFIG_RULES`); each problem is `<path>: <message>`. */
export function ruleProblems(raw: unknown): string[] {
  const root = dict(raw);
  const apps = dict(root?.apps);
  if (!root || !apps) return [];
  const declared = Array.isArray(root.environments) ? root.environments.filter((e): e is string => typeof e === 'string') : undefined;
  const problems: string[] = [];
  const seen = new Seen();
  for (const [appName, appRaw] of Object.entries(apps)) {
    const app = dict(appRaw);
    if (app) problems.push(...appProblems(appName, app, declared, seen), ...pipelineProblems(appName, app, root, apps, declared));
  }
  const authz = dict(root.authorization);
  if (authz && !dict(root.github)) problems.push('authorization: needs a `github` section (team membership is checked through the GitHub API)');
  if (authz && Array.isArray(authz.protectedEnvironments) && declared) {
    authz.protectedEnvironments.forEach((e, i) => {
      if (typeof e === 'string' && !declared.includes(e)) {
        problems.push(`authorization.protectedEnvironments[${i}]: "${e}" is not one of the environments (${declared.join(', ')})`);
      }
    });
  }
  problems.push(...identityProblems(root, declared));
  const aws = dict(root.aws);
  const share = typeof aws?.ecsApiShare === 'number' ? aws.ecsApiShare : CONFIG_DEFAULTS.ecsApiShare;
  if (typeof aws?.ecsApiWorkerShare === 'number' && aws.ecsApiWorkerShare > share) {
    problems.push(
      `aws.ecsApiWorkerShare: ${aws.ecsApiWorkerShare} is more than aws.ecsApiShare (${share}), the share of all workers together: set it to at most ${share} (e.g. ${share} ÷ the number of workers)`,
    );
  }
  return problems;
}

function identityProblems(root: Dict, declared: string[] | undefined): string[] {
  const id = dict(root.identity);
  if (!id) return [];
  const problems: string[] = [];
  const envs = dict(id.environments);
  if (envs && declared) {
    for (const e of Object.keys(envs)) {
      if (!declared.includes(e)) problems.push(`identity.environments.${e}: "${e}" is not one of the environments (${declared.join(', ')})`);
    }
  }
  const modes = [id.default, ...Object.values(envs ?? {}), ...Object.values(dict(id.operations) ?? {})];
  const oidc = dict(id.oidc);
  if (modes.includes('oidc') && !oidc) problems.push('identity: `oidc` mode needs an `identity.oidc` section (issuer, audience, repository)');
  if (oidc && oidc.repository === undefined && !dict(root.github))
    problems.push('identity.oidc.repository: is required when there is no `github.repository` (whose workflows may act)');
  return problems;
}

function appProblems(appName: string, app: Dict, declared: string[] | undefined, seen: Seen): string[] {
  const at = ['apps', appName, 'environments'];
  const envs = app.environments;
  if (app.releaseOnly === true) {
    return envs === undefined ? [] : [`${formatPath(at)}: must be left out: a release-only app is deployed elsewhere, not by Slipway`];
  }
  if (envs === undefined) return [`${formatPath(at)}: is required unless releaseOnly is true (list where the app is deployed)`];
  const envMap = dict(envs);
  if (!envMap) return [];
  if (Object.keys(envMap).length === 0) return [`${formatPath(at)}: must have at least one environment unless releaseOnly is true`];
  const images = dict(app.images);
  const problems: string[] = [];
  for (const [envName, envRaw] of Object.entries(envMap)) {
    const path = [...at, envName];
    if (declared && !declared.includes(envName)) {
      problems.push(`${formatPath(path)}: "${envName}" is not one of the declared environments (${[...new Set(declared)].join(', ')})`);
    }
    const env = dict(envRaw);
    if (env) problems.push(...containerProblems(path, env, appName, images), ...seen.check(path, env), ...testTrafficProblems(path, env, app));
  }
  return problems;
}

/** The Playwright gate on test traffic needs the app's suite and the test route's URL. */
function testTrafficProblems(path: string[], env: Dict, app: Dict): string[] {
  const t = dict(env.testTraffic);
  if (!t || t.playwright !== true) return [];
  const problems: string[] = [];
  const at = formatPath([...path, 'testTraffic', 'playwright']);
  if (!dict(dict(dict(app.pipeline)?.gate)?.playwright)) problems.push(`${at}: needs the app's \`pipeline.gate.playwright\` (the suite to run against the test route)`);
  if (t.url === undefined) problems.push(`${at}: needs \`testTraffic.url\` (the base URL the suite runs against)`);
  return problems;
}

/** What the pipeline of `appName` needs: version endpoints, the apps its gate and production smoke suite take URLs from, `github`, `authorization`. */
function pipelineProblems(appName: string, app: Dict, root: Dict, apps: Dict, declared: string[] | undefined): string[] {
  const pipeline = dict(app.pipeline);
  if (!pipeline) return [];
  const at = ['apps', appName, 'pipeline'];
  const problems: string[] = [];
  const staging = declared?.[0];
  const envs = dict(app.environments);
  if (staging && envs) {
    if (!Object.hasOwn(envs, staging)) {
      problems.push(`${formatPath(at)}: needs the app deployed to ${staging} (the first of \`environments\`), where candidates go first`);
    }
    const production = [...declared].reverse().find((e) => Object.hasOwn(envs, e));
    for (const env of new Set([staging, production])) {
      const e = env !== undefined && Object.hasOwn(envs, env) ? dict(envs[env]) : undefined;
      if (e && e.versionEndpoint === undefined) {
        problems.push(`${formatPath(['apps', appName, 'environments', env!, 'versionEndpoint'])}: is required by ${formatPath(at)} (it checks what ${env} runs)`);
      }
    }
  }
  const gate = dict(pipeline.gate);
  // The staging gate takes its URLs from staging, the production smoke suite from production.
  const suites: [Dict | undefined, string[], string | undefined][] = [
    [dict(gate?.playwright), [...at, 'gate', 'playwright'], staging],
    [
      dict(dict(pipeline.productionSmoke)?.playwright),
      [...at, 'productionSmoke', 'playwright'],
      declared && envs ? [...declared].reverse().find((e) => Object.hasOwn(envs, e)) : undefined,
    ],
  ];
  for (const [playwright, where, envName] of suites) {
    if (!playwright || !envName) continue;
    for (const key of ['baseUrlFrom', 'apiUrlFrom'] as const) {
      const from = playwright[key] === undefined && key === 'baseUrlFrom' ? appName : str(playwright[key]);
      if (from === undefined) continue;
      const path = formatPath(playwright[key] === undefined ? where : [...where, key]);
      const other = Object.hasOwn(apps, from) ? dict(apps[from]) : undefined;
      if (!other) {
        problems.push(`${path}: "${from}" is not one of the apps (${Object.keys(apps).join(', ')})`);
        continue;
      }
      const otherEnvs = dict(other.environments);
      const env = otherEnvs && Object.hasOwn(otherEnvs, envName) ? dict(otherEnvs[envName]) : undefined;
      const what = key === 'baseUrlFrom' ? 'the site the suite tests (PLAYWRIGHT_BASE_URL)' : 'the API the suite is given (API_URL)';
      if (!env) problems.push(`${path}: ${from} is not deployed to ${envName}, so it has no url for ${what}`);
      else if (env.url === undefined) problems.push(`${path}: ${formatPath(['apps', from, 'environments', envName, 'url'])} is not set; it is ${what}`);
    }
  }
  if (dict(gate?.githubWorkflow) && !dict(root.github)) {
    problems.push(`${formatPath([...at, 'gate', 'githubWorkflow'])}: needs a \`github\` section (the workflow is dispatched through the GitHub API)`);
  }
  if (pipeline.autoApprove !== true && !dict(root.authorization)) {
    problems.push(`${formatPath(at)}: approvals need an \`authorization\` section (approvers are checked against its team); add one, or set autoApprove: true`);
  }
  return problems;
}

/** Every container must map to one of the app's image keys. */
function containerProblems(path: string[], env: Dict, appName: string, images: Dict | undefined): string[] {
  const containers = dict(env.containers);
  if (!containers || !images) return [];
  const keys = Object.keys(images);
  return Object.entries(containers)
    .filter(([, key]) => typeof key === 'string' && !Object.hasOwn(images, key))
    .map(([name, key]) => `${formatPath([...path, 'containers', name])}: image key "${String(key)}" is not in ${formatPath(['apps', appName, 'images'])} (${keys.join(', ')})`);
}

/** Tracks (cluster, service) pairs and template families: two targets must never share one. */
class Seen {
  private services = new Map<string, string>();
  private templates = new Map<string, string>();

  check(path: string[], env: Dict): string[] {
    const problems: string[] = [];
    const cluster = str(env.cluster);
    const service = str(env.service);
    const template = str(env.templateFamily);
    if (cluster && service) {
      const first = this.claim(this.services, `${cluster}/${service}`, path);
      if (first) problems.push(`${formatPath([...path, 'service'])}: service ${cluster}/${service} is already the target of ${first}`);
    }
    if (template) {
      const first = this.claim(this.templates, template, path);
      if (first) problems.push(`${formatPath([...path, 'templateFamily'])}: template ${template} is already used by ${first}`);
    }
    return problems;
  }

  /** Records `key` for `path`; returns the path that claimed it first, if any. */
  private claim(map: Map<string, string>, key: string, path: string[]): string | undefined {
    const first = map.get(key);
    if (first === undefined) map.set(key, formatPath(path));
    return first;
  }
}

/** `['apps','api','environments',0]` → `apps.api.environments[0]`; odd keys are quoted. */
export function formatPath(segments: (string | number)[]): string {
  if (segments.length === 0) return '(config)';
  return segments
    .map((s, i) => {
      if (typeof s === 'number' || /^\d+$/.test(s)) return `[${s}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(s)) return i === 0 ? s : `.${s}`;
      return `[${JSON.stringify(s)}]`;
    })
    .join('');
}
