import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { appImages, configSchema, deployableApps, parseConfig, resolveTarget, type JsonSchema, type SlipwayConfig } from '../domain/config';
import { loadConfig } from '../domain/config-file';
import { BadInput } from '../domain/errors';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from '../scripts/config-reference';
import { CONFIG_VALIDATOR_PATH, renderConfigValidator } from '../scripts/config-validator';

const EXAMPLE_PATH = join(__dirname, '..', 'config', 'openverse.yaml');
const exampleText = readFileSync(EXAMPLE_PATH, 'utf8');

/** The example config as plain data, to break in one place per test. */
function exampleRaw(): any {
  return parseYaml(exampleText);
}

/** The BadInput that parsing `text` throws (fails the test when nothing is thrown). */
function badInputOf(text: string, source = 'test.yaml'): BadInput {
  try {
    parseConfig(text, source);
  } catch (e) {
    assert.ok(e instanceof BadInput, `expected BadInput, got ${String(e)}`);
    return e;
  }
  assert.fail('expected parseConfig to throw');
}

/** The problems of the example after `mutate`. */
function problemsAfter(mutate: (raw: any) => void): string[] {
  const raw = exampleRaw();
  mutate(raw);
  return badInputOf(stringifyYaml(raw)).problems;
}

/** The problems whose path is exactly `path`. */
function at(problems: string[], path: string): string[] {
  return problems.filter((p) => p.startsWith(`${path}: `));
}

const example = (): SlipwayConfig => parseConfig(exampleText, 'config/openverse.yaml');

describe('the Openverse example config', () => {
  it('parses', () => {
    const config = example();
    assert.equal(config.aws.region, 'us-east-1');
    assert.deepEqual(config.environments, ['staging', 'production']);
    assert.deepEqual(Object.keys(config.apps), ['api', 'frontend', 'ingestion_server']);
    assert.deepEqual(deployableApps(config), ['api', 'frontend']);
  });

  // The table of services in shared/openverse-facts.md.
  const services = [
    {
      app: 'api',
      env: 'staging',
      cluster: 'staging-default',
      service: 'staging-api',
      family: 'staging-api',
      containers: { nginx: 'ghcr.io/wordpress/openverse-api_nginx', django: 'ghcr.io/wordpress/openverse-api' },
      versionEndpoint: 'https://api-staging.openverse.org/version',
    },
    {
      app: 'api',
      env: 'production',
      cluster: 'production-default',
      service: 'production-api',
      family: 'production-api',
      containers: { nginx: 'ghcr.io/wordpress/openverse-api_nginx', django: 'ghcr.io/wordpress/openverse-api' },
      versionEndpoint: 'https://api.openverse.org/version',
    },
    {
      app: 'frontend',
      env: 'staging',
      cluster: 'staging-default',
      service: 'staging-nuxt',
      family: 'staging-nuxt',
      containers: { nuxt: 'ghcr.io/wordpress/openverse-frontend' },
      versionEndpoint: 'https://staging.openverse.org/version.json',
    },
    {
      app: 'frontend',
      env: 'production',
      cluster: 'production-default',
      service: 'production-nuxt',
      family: 'production-nuxt',
      containers: { nuxt: 'ghcr.io/wordpress/openverse-frontend' },
      versionEndpoint: 'https://openverse.org/version.json',
    },
  ];
  for (const s of services) {
    it(`targets ${s.cluster}/${s.service} for ${s.app} ${s.env}`, () => {
      const t = resolveTarget(example(), s.app, s.env);
      assert.equal(t.region, 'us-east-1');
      assert.equal(t.cluster, s.cluster);
      assert.equal(t.service, s.service);
      assert.equal(t.templateFamily, `${s.family}-template`);
      assert.equal(t.family, s.family);
      assert.equal(t.versionEndpoint, s.versionEndpoint);
      assert.deepEqual(Object.fromEntries(t.containers.map((c) => [c.name, c.repository])), s.containers);
      assert.equal(t.budgetSeconds, 15 * 60);
      assert.equal(t.verifyBudgetSeconds, 5 * 60);
    });
  }

  it('lists the images of the release-only ingestion server', () => {
    assert.deepEqual(appImages(example(), 'ingestion_server'), [{ key: 'ingestion_server', repository: 'ghcr.io/wordpress/openverse-ingestion_server' }]);
    assert.deepEqual(
      appImages(example(), 'api').map((i) => i.key),
      ['api', 'api_nginx'],
    );
  });

  it('parses the same when written as JSON', () => {
    const fromJson = parseConfig(JSON.stringify(exampleRaw(), null, 2), 'config/openverse.yaml');
    assert.deepEqual(fromJson, example());
  });
});

describe('defaults', () => {
  it('fills in temporal, deploy and releaseOnly', () => {
    const raw = exampleRaw();
    delete raw.temporal;
    delete raw.deploy;
    const config = parseConfig(stringifyYaml(raw), 'x.yaml');
    assert.deepEqual(config.temporal, { taskQueue: 'slipway', uiUrl: 'http://localhost:8233', namespace: 'default' });
    assert.deepEqual(config.deploy, { budgetMinutes: 15, verifyBudgetMinutes: 5 });
    assert.equal(config.apps.api.releaseOnly, false);
    assert.equal(config.aws.endpoint, undefined);
  });

  it('lets an environment override the deploy budget, and the default follow deploy.budgetMinutes', () => {
    const raw = exampleRaw();
    raw.deploy = { budgetMinutes: 20, verifyBudgetMinutes: 2.5 };
    raw.apps.api.environments.production.budgetMinutes = 30;
    const config = parseConfig(stringifyYaml(raw), 'x.yaml');
    assert.equal(resolveTarget(config, 'api', 'production').budgetSeconds, 30 * 60);
    assert.equal(resolveTarget(config, 'api', 'staging').budgetSeconds, 20 * 60);
    assert.equal(resolveTarget(config, 'api', 'staging').verifyBudgetSeconds, 150);
  });
});

describe('broken configs', () => {
  const cases: { name: string; mutate: (raw: any) => void; paths: string[]; says?: RegExp }[] = [
    {
      name: 'missing cluster',
      mutate: (r) => delete r.apps.api.environments.staging.cluster,
      paths: ['apps.api.environments.staging.cluster'],
      says: /^apps\.api\.environments\.staging\.cluster: is required$/,
    },
    { name: 'missing aws', mutate: (r) => delete r.aws, paths: ['aws'], says: /is required/ },
    { name: 'missing region', mutate: (r) => (r.aws = {}), paths: ['aws.region'] },
    { name: 'bad region', mutate: (r) => (r.aws.region = 'Virginia'), paths: ['aws.region'], says: /AWS region/ },
    { name: 'endpoint not a URL', mutate: (r) => (r.aws.endpoint = 'localhost:4566'), paths: ['aws.endpoint'], says: /http/ },
    {
      name: 'unknown top-level key',
      mutate: (r) => (r.colour = 'blue'),
      paths: ['colour'],
      says: /not a known key.*aws, temporal, deploy, github, authorization, identity, registries, notifications, environments, apps/,
    },
    { name: 'authorization without github', mutate: (r) => delete r.github, paths: ['authorization'], says: /github/ },
    {
      name: 'protected environment not declared',
      mutate: (r) => (r.authorization.protectedEnvironments = ['prod']),
      paths: ['authorization.protectedEnvironments[0]'],
      says: /not one of the environments/,
    },
    {
      name: "one worker's ECS share above all workers'",
      mutate: (r) => ((r.aws.ecsApiShare = 0.4), (r.aws.ecsApiWorkerShare = 0.5)),
      paths: ['aws.ecsApiWorkerShare'],
      says: /0\.5 is more than aws\.ecsApiShare \(0\.4\).*at most 0\.4/,
    },
    {
      name: 'identity mode not one of the modes',
      mutate: (r) => (r.identity.environments.production = 'trusted'),
      paths: ['identity.environments.production'],
      says: /oidc, trusted-caller/,
    },
    {
      name: 'identity mode for an undeclared environment',
      mutate: (r) => (r.identity.environments.prod = 'oidc'),
      paths: ['identity.environments.prod'],
      says: /not one of the environments/,
    },
    { name: 'oidc mode without an issuer section', mutate: (r) => delete r.identity.oidc, paths: ['identity'], says: /needs an `identity.oidc` section/ },
    { name: 'unknown identity operation', mutate: (r) => (r.identity.operations = { promote: 'oidc' }), paths: ['identity.operations.promote'], says: /not a known key/ },
    {
      name: 'secret value instead of a variable name',
      mutate: (r) => (r.notifications.slack.webhookUrlEnv = 'https://hooks.slack.com/services/T/B/X'),
      paths: ['notifications.slack.webhookUrlEnv'],
    },
    {
      name: 'unknown key in an environment',
      mutate: (r) => (r.apps.api.environments.staging.clustr = 'x'),
      paths: ['apps.api.environments.staging.clustr'],
      says: /not a known key/,
    },
    { name: 'unknown key in temporal', mutate: (r) => (r.temporal.host = 'x'), paths: ['temporal.host'] },
    { name: 'empty task queue', mutate: (r) => (r.temporal.taskQueue = ''), paths: ['temporal.taskQueue'] },
    { name: 'environments not a list', mutate: (r) => (r.environments = 'staging'), paths: ['environments'], says: /a list/ },
    { name: 'no environments listed', mutate: (r) => (r.environments = []), paths: ['environments'] },
    { name: 'environment listed twice', mutate: (r) => r.environments.push('staging'), paths: ['environments'], says: /"staging" more than once/ },
    { name: 'bad environment name', mutate: (r) => r.environments.push('QA env'), paths: ['environments[2]'], says: /lowercase name/ },
    {
      name: 'environment not declared',
      mutate: (r) => (r.apps.api.environments.qa = { ...r.apps.api.environments.staging, service: 'qa-api', templateFamily: 'qa-api-template' }),
      paths: ['apps.api.environments.qa'],
      says: /not one of the declared environments \(staging, production\)/,
    },
    {
      name: 'container mapped to an unknown image key',
      mutate: (r) => (r.apps.api.environments.staging.containers.django = 'django'),
      paths: ['apps.api.environments.staging.containers.django'],
      says: /image key "django" is not in apps\.api\.images \(api, api_nginx\)/,
    },
    {
      name: 'template family without -template',
      mutate: (r) => (r.apps.api.environments.staging.templateFamily = 'staging-api'),
      paths: ['apps.api.environments.staging.templateFamily'],
      says: /-template/,
    },
    {
      name: 'two targets on one service',
      mutate: (r) => (r.apps.frontend.environments.staging.service = 'staging-api'),
      paths: ['apps.frontend.environments.staging.service'],
      says: /staging-default\/staging-api is already the target of apps\.api\.environments\.staging/,
    },
    {
      name: 'two targets on one template',
      mutate: (r) => (r.apps.frontend.environments.production.templateFamily = 'staging-nuxt-template'),
      paths: ['apps.frontend.environments.production.templateFamily'],
      says: /already used by apps\.frontend\.environments\.staging/,
    },
    {
      name: 'release-only app with environments',
      mutate: (r) => (r.apps.ingestion_server.environments = { staging: r.apps.api.environments.staging }),
      paths: ['apps.ingestion_server.environments'],
      says: /release-only/,
    },
    { name: 'release-only app with empty environments', mutate: (r) => (r.apps.ingestion_server.environments = {}), paths: ['apps.ingestion_server.environments'] },
    { name: 'deployable app without environments', mutate: (r) => delete r.apps.frontend.environments, paths: ['apps.frontend.environments'], says: /required unless releaseOnly/ },
    { name: 'deployable app with no environment', mutate: (r) => (r.apps.frontend.environments = {}), paths: ['apps.frontend.environments'] },
    { name: 'releaseOnly not a boolean', mutate: (r) => (r.apps.ingestion_server.releaseOnly = 'yes'), paths: ['apps.ingestion_server.releaseOnly'], says: /true or false/ },
    { name: 'bad app name', mutate: (r) => (r.apps.Web = r.apps.ingestion_server), paths: ['apps.Web'], says: /lowercase name/ },
    { name: 'no apps', mutate: (r) => (r.apps = {}), paths: ['apps'], says: /at least one/ },
    { name: 'app without images', mutate: (r) => delete r.apps.frontend.images, paths: ['apps.frontend.images'] },
    { name: 'empty images', mutate: (r) => (r.apps.ingestion_server.images = {}), paths: ['apps.ingestion_server.images'] },
    { name: 'image with a tag', mutate: (r) => (r.apps.api.images.api = 'ghcr.io/wordpress/openverse-api:latest'), paths: ['apps.api.images.api'], says: /without tag or digest/ },
    { name: 'image with a digest', mutate: (r) => (r.apps.api.images.api = `ghcr.io/wordpress/openverse-api@sha256:${'a'.repeat(64)}`), paths: ['apps.api.images.api'] },
    { name: 'image without registry host', mutate: (r) => (r.apps.api.images.api = 'wordpress/openverse-api'), paths: ['apps.api.images.api'] },
    { name: 'image in upper case', mutate: (r) => (r.apps.api.images.api = 'ghcr.io/WordPress/openverse-api'), paths: ['apps.api.images.api'] },
    { name: 'image that is only a host', mutate: (r) => (r.apps.api.images.api = 'ghcr.io'), paths: ['apps.api.images.api'] },
    { name: 'no containers', mutate: (r) => (r.apps.api.environments.staging.containers = {}), paths: ['apps.api.environments.staging.containers'], says: /at least one entry/ },
    { name: 'zero budget', mutate: (r) => (r.apps.api.environments.staging.budgetMinutes = 0), paths: ['apps.api.environments.staging.budgetMinutes'], says: /greater than 0/ },
    { name: 'budget as text', mutate: (r) => (r.deploy.budgetMinutes = '15m'), paths: ['deploy.budgetMinutes'], says: /a number/ },
    { name: 'version endpoint not a URL', mutate: (r) => (r.apps.api.environments.staging.versionEndpoint = '/version'), paths: ['apps.api.environments.staging.versionEndpoint'] },
    {
      name: 'pipeline without a staging version endpoint',
      mutate: (r) => delete r.apps.frontend.environments.staging.versionEndpoint,
      paths: ['apps.frontend.environments.staging.versionEndpoint'],
      says: /is required by apps\.frontend\.pipeline/,
    },
    {
      name: 'pipeline without a production version endpoint',
      mutate: (r) => delete r.apps.frontend.environments.production.versionEndpoint,
      paths: ['apps.frontend.environments.production.versionEndpoint'],
      says: /is required by apps\.frontend\.pipeline \(it checks what production runs\)/,
    },
    {
      name: 'pipeline of an app not deployed to staging',
      mutate: (r) => delete r.apps.frontend.environments.staging,
      paths: ['apps.frontend.pipeline'],
      says: /needs the app deployed to staging/,
    },
    {
      name: 'gate URL from an unknown app',
      mutate: (r) => (r.apps.frontend.pipeline.gate.playwright.apiUrlFrom = 'apii'),
      paths: ['apps.frontend.pipeline.gate.playwright.apiUrlFrom'],
      says: /"apii" is not one of the apps \(api, frontend, ingestion_server\)/,
    },
    {
      name: 'gate URL from an app not on staging',
      mutate: (r) => (r.apps.frontend.pipeline.gate.playwright.baseUrlFrom = 'ingestion_server'),
      paths: ['apps.frontend.pipeline.gate.playwright.baseUrlFrom'],
      says: /ingestion_server is not deployed to staging/,
    },
    {
      name: 'gate URL from an app without a url',
      mutate: (r) => delete r.apps.api.environments.staging.url,
      paths: ['apps.frontend.pipeline.gate.playwright.apiUrlFrom'],
      says: /apps\.api\.environments\.staging\.url is not set/,
    },
    {
      name: 'gate on the pipeline app without a url',
      mutate: (r) => delete r.apps.frontend.environments.staging.url,
      paths: ['apps.frontend.pipeline.gate.playwright'],
      says: /apps\.frontend\.environments\.staging\.url is not set; it is the site the suite tests/,
    },
    {
      name: 'production smoke suite taking its API from an app without a production url',
      mutate: (r) => {
        r.apps.frontend.pipeline.productionSmoke = { playwright: { suiteDir: 'examples/playwright-smoke', apiUrlFrom: 'api' } };
        delete r.apps.api.environments.production.url;
      },
      paths: ['apps.frontend.pipeline.productionSmoke.playwright.apiUrlFrom'],
      says: /apps\.api\.environments\.production\.url is not set; it is the API the suite is given/,
    },
    {
      name: 'production smoke suite of an app without a production url',
      mutate: (r) => {
        r.apps.frontend.pipeline.productionSmoke = { playwright: { suiteDir: 'examples/playwright-smoke' } };
        delete r.apps.frontend.environments.production.url;
      },
      paths: ['apps.frontend.pipeline.productionSmoke.playwright'],
      says: /apps\.frontend\.environments\.production\.url is not set; it is the site the suite tests/,
    },
    {
      name: 'GitHub workflow gate without github',
      mutate: (r) => {
        r.apps.frontend.pipeline.gate = { githubWorkflow: { workflow: 'e2e.yml' } };
        delete r.github;
      },
      paths: ['apps.frontend.pipeline.gate.githubWorkflow'],
      says: /needs a `github` section/,
    },
    {
      name: 'test traffic without a version endpoint',
      mutate: (r) => (r.apps.api.environments.production.testTraffic = { approval: true }),
      paths: ['apps.api.environments.production.testTraffic.versionEndpoint'],
      says: /is required/,
    },
    {
      name: "Playwright on test traffic without the app's suite or a URL",
      mutate: (r) => (r.apps.api.environments.production.testTraffic = { versionEndpoint: 'https://api.example.org:8443/version', playwright: true }),
      paths: ['apps.api.environments.production.testTraffic.playwright'],
      says: /needs the app's `pipeline\.gate\.playwright`/,
    },
    {
      name: 'Playwright on test traffic without the test route URL',
      mutate: (r) => (r.apps.frontend.environments.production.testTraffic = { versionEndpoint: 'https://example.org:8443/version', playwright: true }),
      paths: ['apps.frontend.environments.production.testTraffic.playwright'],
      says: /needs `testTraffic\.url`/,
    },
    {
      name: 'approvals without authorization',
      mutate: (r) => delete r.authorization,
      paths: ['apps.frontend.pipeline'],
      says: /approvals need an `authorization` section.*autoApprove: true/,
    },
  ];

  for (const c of cases) {
    it(`reports ${c.name} at ${c.paths.join(', ')}`, () => {
      const problems = problemsAfter(c.mutate);
      for (const path of c.paths) {
        const found = at(problems, path);
        assert.ok(found.length > 0, `no problem at ${path}; got:\n${problems.join('\n')}`);
        if (c.says)
          assert.ok(
            found.some((p) => c.says!.test(p)),
            `${found.join('\n')}\ndoes not match ${c.says}`,
          );
      }
    });
  }

  it('accepts a pipeline without authorization when it approves automatically', () => {
    const raw = exampleRaw();
    delete raw.authorization;
    raw.apps.frontend.pipeline.autoApprove = true;
    assert.equal(parseConfig(stringifyYaml(raw), 'test.yaml').apps.frontend.pipeline?.autoApprove, true);
  });

  it('resolves the test route and its checks into the target (the Playwright suite from the pipeline)', () => {
    const raw = exampleRaw();
    raw.apps.frontend.environments.production.testTraffic = {
      versionEndpoint: 'https://example.org:8443/version',
      url: 'https://example.org:8443',
      playwright: true,
      approval: true,
    };
    const t = resolveTarget(parseConfig(stringifyYaml(raw), 'test.yaml'), 'frontend', 'production').testTraffic;
    assert.equal(t?.versionEndpoint, 'https://example.org:8443/version');
    assert.deepEqual([t?.playwright, t?.approval, t?.deadlineMinutes], [true, true, 60]);
    assert.equal(t?.playwrightGate?.suiteDir, raw.apps.frontend.pipeline.gate.playwright.suiteDir);
  });

  it('reports a file that is not a mapping', () => {
    assert.deepEqual(badInputOf('- staging\n- production\n').problems, ['(config): must be a mapping (key: value)']);
  });

  it('reports an empty file', () => {
    assert.match(badInputOf('  \n').message, /is empty/);
  });

  const goodRepositories = [
    'ghcr.io/wordpress/openverse-api_nginx',
    'localhost:5000/openverse-api',
    'localhost/openverse-api',
    'registry:5000/team/app',
    'registry.example.com:5000/a/b/c',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/openverse/api',
    'docker.io/library/nginx',
    'ghcr.io/a/b__c.d-e',
  ];
  for (const repository of goodRepositories) {
    it(`accepts the repository ${repository}`, () => {
      const raw = exampleRaw();
      raw.apps.api.images.api = repository;
      assert.equal(parseConfig(stringifyYaml(raw), 'x.yaml').apps.api.images.api, repository);
    });
  }
});

describe('many problems at once', () => {
  it('reports every problem in one BadInput, schema and rules together', () => {
    const raw = exampleRaw();
    delete raw.apps.api.environments.staging.cluster;
    raw.apps.api.environments.production.containers.nginx = 'nginx';
    raw.apps.frontend.environments.staging.templateFamily = 'staging-nuxt';
    raw.apps.frontend.environments.production.service = 'production-api';
    raw.apps.ingestion_server.environments = { staging: raw.apps.api.environments.production };
    raw.aws.region = 'nowhere';
    raw.extra = true;
    const err = badInputOf(stringifyYaml(raw), 'broken.yaml');
    const expected = [
      'apps.api.environments.staging.cluster: is required',
      'apps.api.environments.production.containers.nginx: image key "nginx" is not in apps.api.images (api, api_nginx)',
      'apps.frontend.environments.staging.templateFamily: ',
      'apps.frontend.environments.production.service: service production-default/production-api is already the target of apps.api.environments.production',
      'apps.ingestion_server.environments: ',
      'aws.region: ',
      'extra: is not a known key',
    ];
    for (const e of expected)
      assert.ok(
        err.problems.some((p) => p.startsWith(e)),
        `missing ${e} in\n${err.problems.join('\n')}`,
      );
    assert.equal(err.problems.length, new Set(err.problems).size, 'no duplicates');
    assert.match(err.message, new RegExp(`^broken\\.yaml is not a valid Slipway config \\(${err.problems.length} problems\\):`));
    for (const p of err.problems) assert.ok(err.message.includes(`  - ${p}`), `message does not list ${p}`);
  });

  it('checks rules even where the schema already failed elsewhere', () => {
    const raw = exampleRaw();
    raw.apps.api.images.api = 'not a repository';
    raw.apps.api.environments.qa = { cluster: 'c', service: 's', templateFamily: 'qa-template', containers: { django: 'api' } };
    const problems = problemsAfter((r) => Object.assign(r, raw));
    assert.equal(at(problems, 'apps.api.images.api').length, 1);
    assert.equal(at(problems, 'apps.api.environments.qa').length, 1);
  });
});

describe('syntax errors', () => {
  it('gives the line of a YAML error', () => {
    const text = 'aws:\n  region: us-east-1\n environments: [staging\napps: {}\n';
    const err = badInputOf(text, 'conf.yaml');
    assert.match(err.message, /^conf\.yaml is not valid YAML/);
    assert.ok(err.problems.length > 0);
    assert.match(err.problems[0], /^conf\.yaml:3:\d+: \S/);
  });

  it('reports duplicate YAML keys with their line', () => {
    const err = badInputOf('aws:\n  region: us-east-1\naws:\n  region: us-west-2\n', 'dup.yaml');
    assert.match(err.problems[0], /^dup\.yaml:3:1: .*unique/);
  });

  it('gives the line of a JSON error', () => {
    const err = badInputOf('{\n  "aws": { "region": "us-east-1" },\n  "environments": [staging]\n}\n', 'conf.json');
    assert.match(err.message, /^conf\.json is not valid JSON/);
    assert.match(err.problems[0], /^conf\.json:3:\d+: \S/);
  });
});

describe('resolveTarget', () => {
  it('names the deployable apps (and the release-only ones apart) for an unknown app', () => {
    assert.throws(
      () => resolveTarget(example(), 'web', 'staging'),
      (e: unknown) => e instanceof BadInput && /unknown app "web"/.test(e.message) && /api, frontend/.test(e.message) && /release-only: ingestion_server/.test(e.message),
    );
  });

  it('suggests a close app name', () => {
    assert.throws(() => resolveTarget(example(), 'frontnd', 'staging'), /did you mean "frontend"\?/);
  });

  it("names the app's environments for an unknown environment", () => {
    assert.throws(
      () => resolveTarget(example(), 'api', 'prod'),
      (e: unknown) => e instanceof BadInput && /no environment "prod"/.test(e.message) && /did you mean "production"/.test(e.message) && /staging, production/.test(e.message),
    );
  });

  it('names only the environments the app has', () => {
    const raw = exampleRaw();
    delete raw.apps.frontend.environments.production;
    const config = parseConfig(stringifyYaml(raw), 'x.yaml');
    assert.throws(() => resolveTarget(config, 'frontend', 'production'), /its environments are: staging\.$/);
  });

  it('refuses a release-only app, saying it is deployed elsewhere', () => {
    assert.throws(
      () => resolveTarget(example(), 'ingestion_server', 'staging'),
      (e: unknown) => e instanceof BadInput && /ingestion_server is release-only/.test(e.message) && /deployed elsewhere/.test(e.message),
    );
  });

  it('does not take inherited object keys for apps', () => {
    assert.throws(() => resolveTarget(example(), 'constructor', 'staging'), BadInput);
    assert.throws(() => resolveTarget(example(), 'api', 'toString'), BadInput);
  });

  it('appImages names the apps for an unknown app', () => {
    assert.throws(() => appImages(example(), 'catalog'), /api, frontend, ingestion_server/);
  });
});

describe('loadConfig', () => {
  it('reads the example', () => {
    assert.deepEqual(loadConfig(EXAMPLE_PATH).apps.api.images, example().apps.api.images);
    assert.equal(loadConfig(EXAMPLE_PATH).source, EXAMPLE_PATH);
  });

  it('names the missing path and how to point at another', () => {
    assert.throws(
      () => loadConfig('/nowhere/slipway.yaml'),
      (e: unknown) => e instanceof BadInput && /\/nowhere\/slipway\.yaml/.test(e.message) && /--config/.test(e.message) && /SLIPWAY_CONFIG/.test(e.message),
    );
  });
});

describe('the schema', () => {
  it('describes every property', () => {
    const undescribed: string[] = [];
    const walk = (s: JsonSchema, path: string) => {
      if (path && !s.description) undescribed.push(path);
      for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, `${path}.${k}`);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${path}.*`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    walk(configSchema, '');
    assert.deepEqual(undescribed, []);
  });

  it('is draft-07', () => {
    assert.equal(configSchema.$schema, 'http://json-schema.org/draft-07/schema#');
  });

  it('docs/config-reference.md is up to date (regenerate: npm run config-reference)', () => {
    assert.equal(readFileSync(CONFIG_REFERENCE_PATH, 'utf8'), renderConfigReference());
  });

  it('the compiled validator is the schema as it is now (regenerate: npm run config-validator)', () => {
    assert.ok(readFileSync(CONFIG_VALIDATOR_PATH, 'utf8') === renderConfigValidator(), `${CONFIG_VALIDATOR_PATH} is out of date: run npm run config-validator`);
  });
});
