/**
 * Bad input, through every door: the config (parseConfig / loadConfig), the `slipway` CLI
 * (bin/slipway as a process) and the workflows (started through client/operations.ts).
 * Each case gets a clear error naming what was wrong, and nothing changes: no applied ECS
 * mutation, no GitHub mutation, no new registry tag.
 *
 * Last, secrets: the worker gets the GitHub token, a registry password (the registry sits
 * behind a proxy that demands it) and a Slack webhook URL through its environment only;
 * none of them appears in the history of any workflow this server ran, raw or base64-decoded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Client, Connection, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { deployOutcome, startDeploy, startRedeploy, startRollback } from '../client/operations';
import { parseConfig } from '../domain/config';
import { loadConfig } from '../domain/config-file';
import { BadInput } from '../domain/errors';
import { forward } from '../sandbox/proxy';
import { startSlackReceiver, type SlackReceiver } from '../sandbox/slack';
import { REPO_ROOT } from '../sandbox/tools';
import { FailureType, type DeployInput, type RollbackInput } from '../contract';
import { eventually, freshTaskQueue, NEW_TAG, startStack, startWorker, type RunningWorker, type Stack } from './harness';

/** A tag pushed for every image, so only the input under test is wrong. */
const GOOD = NEW_TAG;
const MISSING = '9'.repeat(40);
/** `3f2c1a9…` with a Cyrillic `а` in place of the Latin `a`. */
const LOOKALIKE = GOOD.replace('a', '\u0430');
const MEGABYTE = 1 << 20;

const REGISTRY_USER = 'slipway-bot';
const REGISTRY_PASSWORD = `registry-pw-${randomBytes(12).toString('hex')}`;
const SLACK_PATH = `/services/T0SLIPWAY/B0SECRET/${randomBytes(12).toString('hex')}`;

interface AuthRegistry {
  /** `127.0.0.1:<port>`: the registry host to put in image references. */
  host: string;
  /** Requests that carried the right credentials. */
  authorized: number;
  close(): Promise<void>;
}

/** A proxy in front of the real registry that demands basic credentials, as a private registry does. */
async function startAuthRegistry(upstream: () => string, user: string, password: string): Promise<AuthRegistry> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      req.resume();
      const body = JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="slipway-test"', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    auth.authorized++;
    const headers = { ...req.headers };
    delete headers.authorization;
    forward(req, res, upstream(), headers);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const auth: AuthRegistry = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorized: 0,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  return auth;
}

/** Every string in a history's JSON, base64-decoded where it decodes to text. */
function decodedStrings(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') {
    if (node.length >= 4 && node.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(node)) out.push(Buffer.from(node, 'base64').toString('utf8'));
  } else if (Array.isArray(node)) {
    for (const v of node) decodedStrings(v, out);
  } else if (node && typeof node === 'object') {
    for (const v of Object.values(node)) decodedStrings(v, out);
  }
  return out;
}

describe('bad input is refused clearly, and nothing changes', () => {
  let stack: Stack;
  let registry: AuthRegistry;
  let slack: SlackReceiver;
  let worker: RunningWorker;
  let taskQueue: string;
  let baselineTags: string;
  let secrets: Record<string, string>;
  /** Every execution this file started, to find in the server's list later. */
  const started: WorkflowHandleWithFirstExecutionRunId[] = [];

  before(async () => {
    slack = await startSlackReceiver({ path: SLACK_PATH });
    registry = await startAuthRegistry(() => stack.world.registry.url, REGISTRY_USER, REGISTRY_PASSWORD);
    stack = await startStack({
      timing: { taskStartMs: 100, healthyMs: 100, drainMs: 50 },
      configure: (raw) => {
        for (const app of Object.values<any>(raw.apps)) {
          for (const [key, repo] of Object.entries<string>(app.images)) app.images[key] = repo.replace(/^[^/]+\//, `${registry.host}/`);
        }
        raw.registries = { [registry.host]: { insecure: true, usernameEnv: 'SLIPWAY_REGISTRY_USERNAME', passwordEnv: 'SLIPWAY_REGISTRY_PASSWORD' } };
        raw.notifications = { ...raw.notifications, slack: { webhookUrlEnv: 'SLIPWAY_SLACK_WEBHOOK_URL' } };
      },
    });
    // Secrets live in the worker's environment only.
    Object.assign(stack.world.workerEnv, {
      SLIPWAY_REGISTRY_USERNAME: REGISTRY_USER,
      SLIPWAY_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
      SLIPWAY_SLACK_WEBHOOK_URL: slack.url,
    });
    secrets = { 'GitHub token': stack.world.workerEnv.GITHUB_TOKEN, 'registry password': REGISTRY_PASSWORD, 'Slack webhook URL': slack.url };
    await stack.world.pushTags(GOOD);
    taskQueue = freshTaskQueue('bad-input');
    worker = await startWorker(stack, taskQueue);
    stack.ecs.resetCalls();
    stack.world.github.resetRequests();
    baselineTags = await registryTags();
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    await registry?.close();
    await slack?.close();
  });

  /** Tags of every repository, read from the registry itself. */
  async function registryTags(): Promise<string> {
    const all: Record<string, string[]> = {};
    for (const repository of stack.world.repositories) {
      const name = repository.slice(repository.indexOf('/') + 1);
      const res = await fetch(`${stack.world.registry.url}/v2/${name}/tags/list`);
      const body = (await res.json()) as { tags?: string[] };
      all[name] = [...(body.tags ?? [])].sort();
    }
    return JSON.stringify(all);
  }

  /** Runs `fn` and asserts no sandbox recorded a change meanwhile. */
  async function unchanged<T>(fn: () => Promise<T>): Promise<T> {
    const ecs = stack.ecs.mutations().length;
    const github = stack.world.github.mutations().length;
    const result = await fn();
    assert.deepEqual(
      stack.ecs
        .mutations()
        .slice(ecs)
        .map((m) => m.op),
      [],
      'no applied ECS mutation',
    );
    assert.deepEqual(stack.world.github.mutations().slice(github), [], 'no GitHub mutation');
    assert.equal(await registryTags(), baselineTags, 'no new registry tag');
    return result;
  }

  function configFile(name: string, text: string): string {
    const dir = join(stack.dir, 'broken');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** The stack's config as YAML after `mutate`. */
  function configText(mutate: (raw: any) => void): string {
    const raw = parseYaml(stringifyYaml(stack.world.configRaw()));
    mutate(raw);
    return stringifyYaml(raw);
  }

  // ---------------------------------------------------------------------------------------
  // The config

  describe('config files', () => {
    const cases: { name: string; text?: () => string; mutate?: (raw: any) => void; path?: () => string; message: RegExp }[] = [
      { name: 'YAML syntax error', text: () => 'aws:\n  region: us-east-1\napps: [\n  api: {\n', message: /is not valid YAML[\s\S]*:\d+:\d+: /s },
      { name: 'JSON syntax error', text: () => '{"aws": {"region": "us-east-1",}}', message: /is not valid JSON[\s\S]*:1:\d+: / },
      { name: 'empty file', text: () => '\n\n', message: /is empty/ },
      { name: 'not a mapping', text: () => '- staging\n- production\n', message: /\(config\): must be a mapping/ },
      { name: 'budget of the wrong type', mutate: (raw) => (raw.deploy.budgetMinutes = 'soon'), message: /deploy\.budgetMinutes: must be a number/ },
      { name: 'environments not a list', mutate: (raw) => (raw.environments = 'staging'), message: /environments: must be a list/ },
      {
        name: 'containers not a mapping',
        mutate: (raw) => (raw.apps.api.environments.staging.containers = ['django']),
        message: /apps\.api\.environments\.staging\.containers: must be a mapping/,
      },
      { name: 'unknown top-level key', mutate: (raw) => (raw.deploys = {}), message: /deploys: is not a known key \(known keys: .*deploy/ },
      {
        name: 'unknown environment key',
        mutate: (raw) => (raw.apps.api.environments.staging.clusterName = 'x'),
        message: /apps\.api\.environments\.staging\.clusterName: is not a known key/,
      },
      { name: 'missing aws section', mutate: (raw) => delete raw.aws, message: /aws: is required/ },
      { name: 'missing apps section', mutate: (raw) => delete raw.apps, message: /apps: is required/ },
      {
        name: 'missing service',
        mutate: (raw) => delete raw.apps.frontend.environments.production.service,
        message: /apps\.frontend\.environments\.production\.service: is required/,
      },
      {
        name: 'container mapped to an unknown image',
        mutate: (raw) => (raw.apps.api.environments.staging.containers.celery = 'celery'),
        message: /containers\.celery: image key "celery" is not in apps\.api\.images/,
      },
      {
        name: 'undeclared environment',
        mutate: (raw) => (raw.apps.api.environments.qa = { ...raw.apps.api.environments.staging, service: 'qa-api', templateFamily: 'qa-api-template' }),
        message: /apps\.api\.environments\.qa: "qa" is not one of the declared environments/,
      },
      { name: 'authorization without github', mutate: (raw) => delete raw.github, message: /authorization: needs a `github` section/ },
      {
        name: 'injection-shaped template family',
        mutate: (raw) => (raw.apps.api.environments.staging.templateFamily = '$(id)-template'),
        message: /templateFamily: must be a task definition family ending in "-template"/,
      },
      {
        name: 'image repository with a tag',
        mutate: (raw) => (raw.apps.api.images.api = 'ghcr.io/wordpress/openverse-api:latest'),
        message: /apps\.api\.images\.api: must be an image repository without tag or digest/,
      },
      {
        name: 'secret written where its variable name belongs',
        mutate: (raw) => (raw.github.tokenEnv = 'ghp_0123456789abcdef'),
        message: /github\.tokenEnv: must be the name of an environment variable .*not the secret itself/,
      },
      {
        name: 'config file that does not exist',
        path: () => join(stack.dir, 'nope', 'slipway.yaml'),
        message: /slipway\.yaml: config file does not exist.*--config <path> or the SLIPWAY_CONFIG/s,
      },
      { name: 'config path that is a directory', path: () => stack.dir, message: /config file is a directory/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        await unchanged(async () => {
          const path = c.path ? c.path() : configFile(`${c.name.replace(/\W+/g, '-')}.yaml`, c.text ? c.text() : configText(c.mutate!));
          assert.throws(
            () => loadConfig(path),
            (err: Error) => {
              assert.ok(err instanceof BadInput, `expected BadInput, got ${err.name}: ${err.message}`);
              assert.match(err.message, c.message);
              return true;
            },
          );
        });
      });
    }
    it('parseConfig reports every problem at once', () => {
      const text = configText((raw) => {
        raw.deploy.budgetMinutes = 'soon';
        raw.deploys = {};
        delete raw.apps.frontend.environments.production.service;
      });
      assert.throws(
        () => parseConfig(text, 'three.yaml'),
        (err: BadInput) => err.problems.length === 3 && /three\.yaml is not a valid Slipway config \(3 problems\)/.test(err.message),
      );
    });
  });

  // ---------------------------------------------------------------------------------------
  // The CLI, where it refuses before starting anything

  interface CliResult {
    code: number | null;
    stdout: string;
    stderr: string;
  }

  function cli(args: string[], opts: { config?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(REPO_ROOT, 'bin', 'slipway'), args, {
        cwd: stack.dir,
        env: {
          PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
          HOME: process.env.HOME ?? stack.dir,
          TEMPORAL_ADDRESS: stack.temporal.address,
          SLIPWAY_CONFIG: opts.config ?? stack.configPath,
          SLIPWAY_TASK_QUEUE: taskQueue,
          ...opts.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const D = (tag: string) => ['deploy', 'api', 'staging', tag, '--actor', 'alice'];
  const notATag = (shown: string) => new RegExp(`${shown} is not a valid image tag: use letters, digits`);

  describe('the CLI refuses before starting anything', { concurrency: 4 }, () => {
    const cases: { name: string; args: string[]; config?: () => string; env?: Record<string, string>; exit: number; stderr: RegExp }[] = [
      { name: 'unknown app', args: ['deploy', 'catalog', 'staging', GOOD, '--actor', 'alice'], exit: 2, stderr: /unknown app "catalog".*apps that can be deployed: api, frontend/ },
      {
        name: 'unknown env',
        args: ['deploy', 'api', 'prod', GOOD, '--actor', 'alice'],
        exit: 2,
        stderr: /api has no environment "prod" \(did you mean "production"\?\); its environments are: staging, production/,
      },
      { name: 'release-only app', args: ['deploy', 'ingestion_server', 'production', GOOD, '--actor', 'alice'], exit: 2, stderr: /ingestion_server is release-only/ },
      { name: 'tag $(id)', args: D('$(id)'), exit: 2, stderr: notATag('"\\$\\(id\\)"') },
      { name: 'tag ; rm -rf /', args: D('; rm -rf /'), exit: 2, stderr: notATag('"; rm -rf /"') },
      { name: 'tag with backticks', args: D('`id`'), exit: 2, stderr: notATag('"`id`"') },
      { name: 'tag with a newline', args: D('v1\nrm -rf /'), exit: 2, stderr: notATag('"v1\\\\nrm -rf /"') },
      { name: 'tag with a unicode lookalike', args: D(LOOKALIKE), exit: 2, stderr: notATag(`"${LOOKALIKE}"`) },
      { name: 'tag of 129 characters', args: D('a'.repeat(129)), exit: 2, stderr: /image tag is 129 characters long; at most 128 are allowed/ },
      { name: 'empty tag', args: D(''), exit: 2, stderr: /an image tag is required/ },
      { name: 'tag with whitespace', args: D('v1 2'), exit: 2, stderr: notATag('"v1 2"') },
      { name: 'tag with path segments', args: D('../../latest'), exit: 2, stderr: notATag('"\\.\\./\\.\\./latest"') },
      {
        name: 'rollback --tag with a shell substitution',
        args: ['rollback', 'api', 'staging', '--tag', '$(curl evil)', '--actor', 'alice'],
        exit: 2,
        stderr: /--tag: "\$\(curl evil\)" is not a valid image tag/,
      },
      { name: 'no actor', args: ['deploy', 'api', 'staging', GOOD], exit: 2, stderr: /who is deploying\? pass --actor <github-login>/ },
      { name: 'budget that is not a duration', args: [...D(GOOD), '--budget', 'soon'], exit: 2, stderr: /--budget soon: give minutes between 1 and 1440/ },
      { name: 'unknown command', args: ['destroy', 'api', 'staging'], exit: 2, stderr: /unknown command 'destroy'; commands: deploy, rollback, redeploy/ },
      { name: 'config file that does not exist', args: D(GOOD), config: () => join(stack.dir, 'missing.yaml'), exit: 2, stderr: /missing\.yaml: config file does not exist/ },
      {
        name: 'config with a YAML syntax error',
        args: D(GOOD),
        config: () => configFile('cli-syntax.yaml', 'apps: [\n  api: {\n'),
        exit: 2,
        stderr: /cli-syntax\.yaml is not valid YAML/,
      },
      {
        name: 'config with a wrong type',
        args: D(GOOD),
        config: () =>
          configFile(
            'cli-type.yaml',
            configText((raw) => (raw.apps.api.environments.staging.budgetMinutes = 'ten')),
          ),
        exit: 2,
        stderr: /apps\.api\.environments\.staging\.budgetMinutes: must be a number/,
      },
      {
        name: 'config with an unknown key',
        args: D(GOOD),
        config: () =>
          configFile(
            'cli-key.yaml',
            configText((raw) => (raw.apps.api.enviroments = {})),
          ),
        exit: 2,
        stderr: /apps\.api\.enviroments: is not a known key/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await unchanged(() => cli(c.args, { config: c.config?.(), env: c.env }));
        assert.equal(r.code, c.exit, `exit ${r.code}; stderr: ${r.stderr}`);
        assert.match(r.stderr, c.stderr);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for bad input');
      });
    }
  });

  // ---------------------------------------------------------------------------------------
  // The workflows (and the CLI where only the worker can tell)

  describe('the workflows refuse before touching anything', () => {
    type Op = { deploy: Partial<DeployInput> } | { rollback: Partial<RollbackInput> } | { redeploy: { app: string; env: string; actor: string } };
    const cases: {
      name: string;
      op?: Op;
      cli?: string[];
      config?: (raw: any) => void;
      type?: string;
      exit?: number;
      message: RegExp;
      /** A known gap: the case says what should happen; it fails until the workflow code refuses it. */
    }[] = [
      { name: 'unknown app', op: { deploy: { app: 'catalog' } }, type: FailureType.badInput, message: /unknown app "catalog".*api, frontend/ },
      { name: 'injection-shaped app', op: { deploy: { app: '$(id)' } }, type: FailureType.badInput, message: /unknown app "\$\(id\)"/ },
      { name: 'unknown env', op: { deploy: { env: 'prod' } }, type: FailureType.badInput, message: /api has no environment "prod"/ },
      { name: 'env with path segments', op: { deploy: { env: '../production' } }, type: FailureType.badInput, message: /api has no environment "\.\.\/production"/ },
      { name: 'release-only app', op: { deploy: { app: 'ingestion_server' } }, type: FailureType.badInput, message: /release-only/ },
      { name: 'tag $(id)', op: { deploy: { tag: '$(id)' } }, type: FailureType.badInput, message: notATag('"\\$\\(id\\)"') },
      { name: 'tag ; rm -rf /', op: { deploy: { tag: '; rm -rf /' } }, type: FailureType.badInput, message: notATag('"; rm -rf /"') },
      { name: 'tag with backticks', op: { deploy: { tag: '`reboot`' } }, type: FailureType.badInput, message: notATag('"`reboot`"') },
      { name: 'tag with a newline', op: { deploy: { tag: 'v1\n--force' } }, type: FailureType.badInput, message: notATag('"v1\\\\n--force"') },
      { name: 'tag with a unicode lookalike', op: { deploy: { tag: LOOKALIKE } }, type: FailureType.badInput, message: notATag(`"${LOOKALIKE}"`) },
      { name: 'tag of 129 characters', op: { deploy: { tag: 'b'.repeat(129) } }, type: FailureType.badInput, message: /image tag is 129 characters long; at most 128/ },
      { name: 'empty tag', op: { deploy: { tag: '' } }, type: FailureType.badInput, message: /an image tag is required/ },
      { name: 'tag with whitespace', op: { deploy: { tag: ' v1' } }, type: FailureType.badInput, message: notATag('" v1"') },
      { name: 'tag that is a digest', op: { deploy: { tag: `sha256:${'0'.repeat(64)}` } }, type: FailureType.badInput, message: /"sha256:0{53}…" is not a valid image tag/ },
      { name: 'nonexistent tag', op: { deploy: { tag: MISSING } }, type: FailureType.notFound, message: /'9{40}' does not appear to be a valid tag for the openverse-api image\./ },
      {
        name: 'actor with shell metacharacters',
        op: { deploy: { actor: 'alice; rm -rf /' } },
        type: FailureType.badInput,
        message: /actor "alice; rm -rf \/" is not a GitHub login/,
      },
      { name: 'empty actor', op: { deploy: { actor: '' } }, type: FailureType.badInput, message: /actor "" is not a GitHub login/ },
      { name: 'actor with a newline', op: { deploy: { actor: 'alice\nbob' } }, type: FailureType.badInput, message: /actor "alice\\nbob" is not a GitHub login/ },
      { name: 'actor of 40 characters', op: { deploy: { actor: 'a'.repeat(40) } }, type: FailureType.badInput, message: /actor "a{40}" is not a GitHub login/ },
      {
        name: 'production deploy by a non-member (mallory)',
        op: { deploy: { env: 'production', actor: 'mallory' } },
        type: FailureType.unauthorized,
        message: /@mallory may not deploy api production: only members of WordPress\/openverse-maintainers/,
      },
      {
        name: 'production deploy by a pending invitee (carol)',
        op: { deploy: { env: 'production', actor: 'carol' } },
        type: FailureType.unauthorized,
        message: /@carol may not deploy api production.*invitation to WordPress\/openverse-maintainers is pending, not accepted/,
      },
      {
        name: 'rollback by a non-member (mallory)',
        op: { rollback: { tag: GOOD, actor: 'mallory' } },
        type: FailureType.unauthorized,
        message: /@mallory may not rollback api staging/,
      },
      {
        name: 'rollback by a pending invitee (carol)',
        op: { rollback: { actor: 'carol' } },
        type: FailureType.unauthorized,
        message: /@carol may not rollback api staging.*pending, not accepted/,
      },
      { name: 'rollback to a malformed tag', op: { rollback: { tag: '; rm -rf /' } }, type: FailureType.badInput, message: notATag('"; rm -rf /"') },
      {
        name: 'rollback to a nonexistent tag',
        op: { rollback: { tag: MISSING } },
        type: FailureType.notFound,
        message: /'9{40}' does not appear to be a valid tag for the openverse-api_nginx image\./,
      },
      {
        name: 'rollback with nothing validated to go back to',
        op: { rollback: {} },
        type: FailureType.notFound,
        message: /no validated release of api in staging to roll back to/,
      },
      { name: 'rollback of an unknown env', op: { rollback: { env: 'qa', tag: GOOD } }, type: FailureType.badInput, message: /api has no environment "qa"/ },
      { name: 'rollback by a bad actor string', op: { rollback: { tag: GOOD, actor: '@alice' } }, type: FailureType.badInput, message: /actor "@alice" is not a GitHub login/ },
      { name: 'redeploy of an unknown app', op: { redeploy: { app: 'catalog', env: 'staging', actor: 'alice' } }, type: FailureType.badInput, message: /unknown app "catalog"/ },
      {
        name: 'redeploy by a bad actor string',
        op: { redeploy: { app: 'api', env: 'staging', actor: 'x y' } },
        type: FailureType.badInput,
        message: /actor "x y" is not a GitHub login/,
      },
      {
        name: 'template without the configured container',
        op: { deploy: {} },
        config: (raw) => (raw.apps.api.environments.staging.containers.celery = 'api'),
        type: FailureType.badInput,
        message: /staging-api-template has no container "celery".*nginx, django/,
      },
      {
        name: 'template that does not exist',
        op: { deploy: {} },
        config: (raw) => (raw.apps.api.environments.staging.templateFamily = 'staging-api-v2-template'),
        type: FailureType.notFound,
        message: /staging-api-v2-template.*not found/,
      },
      { name: 'CLI: nonexistent tag', cli: D(MISSING), exit: 2, message: /'9{40}' does not appear to be a valid tag for the openverse-api(_nginx)? image\./ },
      {
        name: 'CLI: production deploy by mallory',
        cli: ['deploy', 'frontend', 'production', GOOD, '--actor', 'mallory'],
        exit: 5,
        message: /@mallory may not deploy frontend production/,
      },
      {
        name: 'CLI: rollback by carol',
        cli: ['rollback', 'frontend', 'staging', '--tag', GOOD, '--actor', 'carol'],
        exit: 5,
        message: /@carol may not rollback frontend staging.*pending/,
      },
      {
        name: 'CLI: actor with shell metacharacters',
        cli: ['deploy', 'frontend', 'staging', GOOD, '--actor', 'x$(id)'],
        exit: 2,
        message: /actor "x\$\(id\)" is not a GitHub login/,
      },
      // Oversized inputs: refused before anything, and the search attributes stay within the server's limits.
      {
        name: 'a 1 MB tag',
        op: { deploy: { tag: 'a'.repeat(MEGABYTE) } },
        type: FailureType.badInput,
        message: /image tag is 1048576 characters long; at most 128 are allowed/,
      },
      {
        name: 'a rollback to a 1 MB tag',
        op: { rollback: { tag: 'a'.repeat(MEGABYTE) } },
        type: FailureType.badInput,
        message: /image tag is 1048576 characters long; at most 128 are allowed/,
      },
      {
        name: 'a negative budget',
        op: { deploy: { budgetSeconds: -1 } as never },
        type: FailureType.badInput,
        message: /budget must be a whole number of seconds between 1 and 86400; got -1/,
      },
      {
        name: 'a 1 MB reason',
        op: { deploy: { reason: 'r'.repeat(MEGABYTE) } },
        type: FailureType.badInput,
        message: /reason is 1048576 characters long; at most 1000 are allowed/,
      },
    ];

    async function run(op: Op): Promise<{ handle: WorkflowHandle; outcome: Awaited<ReturnType<typeof deployOutcome>> }> {
      const base = { app: 'api', env: 'staging', actor: 'alice', reason: 'bad input' };
      let handle: WorkflowHandleWithFirstExecutionRunId;
      if ('deploy' in op) handle = await startDeploy(stack.client, { ...base, tag: GOOD, ...op.deploy } as DeployInput, { taskQueue });
      else if ('rollback' in op) handle = await startRollback(stack.client, { ...base, ...op.rollback } as RollbackInput, { taskQueue });
      else handle = await startRedeploy(stack.client, { ...base, ...op.redeploy }, { taskQueue });
      started.push(handle);
      return { handle, outcome: await deployOutcome(handle) };
    }

    for (const c of cases) {
      it(c.name, async () => {
        if (c.config) stack.setConfig(c.config);
        try {
          if (c.cli) {
            const r = await unchanged(() => cli(c.cli!));
            assert.equal(r.code, c.exit, `exit ${r.code}; stderr: ${r.stderr}`);
            assert.match(r.stderr + r.stdout, c.message);
            return;
          }
          const { handle, outcome } = await unchanged(() => run(c.op!));
          assert.equal(outcome.ok, false, `${c.name}: ${JSON.stringify(outcome).slice(0, 300)}`);
          if (outcome.ok) return;
          assert.equal(outcome.type, c.type, outcome.message.slice(0, 300));
          assert.match(outcome.message, c.message);
          const desc = await handle.describe();
          assert.equal(desc.status.name, 'FAILED');
          assert.match(String(desc.typedSearchAttributes.get({ name: 'Outcome', type: 'KEYWORD' } as any)), /^(refused|unauthorized)$/);
        } finally {
          if (c.config) stack.resetConfig();
        }
      });
    }
  });

  // ---------------------------------------------------------------------------------------
  // Secrets

  describe('secrets', () => {
    it('no history of any workflow this server ran holds the GitHub token, the registry password or the Slack webhook URL', async () => {
      // Work that needs all three: a production deploy and a rollback (team membership through
      // GitHub, tags through the password-protected registry), with Slack configured.
      for (const op of [
        () => startDeploy(stack.client, { app: 'frontend', env: 'production', tag: GOOD, actor: 'alice', reason: 'secrets' }, { taskQueue }),
        () => startRollback(stack.client, { app: 'frontend', env: 'production', tag: GOOD, actor: 'bob', reason: 'secrets' }, { taskQueue }),
      ]) {
        const handle = await op();
        started.push(handle);
        const outcome = await deployOutcome(handle);
        assert.equal(outcome.ok, true, JSON.stringify(outcome));
      }
      assert.ok(registry.authorized > 0, 'the worker used the registry password');
      assert.ok(
        stack.world.github.requests.some((r) => r.status === 200),
        'the worker used the GitHub token',
      );

      const listed = await eventually(
        'every started execution to be listed',
        async () => {
          const all: { workflowId: string; runId: string }[] = [];
          for await (const ex of stack.client.workflow.list()) all.push({ workflowId: ex.workflowId, runId: ex.runId });
          const known = new Set(all.map((e) => e.runId));
          return started.every((h) => known.has(h.firstExecutionRunId)) ? all : undefined;
        },
        30_000,
        200,
      );
      assert.ok(
        listed.some((e) => e.workflowId.startsWith('record/')),
        'the record workflows are among them',
      );
      assert.ok(
        listed.some((e) => e.workflowId.startsWith('deploy/') && listed.some((r) => r.workflowId.startsWith('rollback/'))),
        'deploys and rollbacks (with their child deploys)',
      );

      // Oversized inputs above make histories larger than gRPC's default 4 MB answer.
      const connection = await Connection.connect({ address: stack.temporal.address, channelArgs: { 'grpc.max_receive_message_length': 256 * MEGABYTE } });
      const client = new Client({ connection });
      const leaks: string[] = [];
      // A control for the search: the full tag appears only inside base64 payloads.
      let tagSeen = false;
      try {
        for (const ex of listed) {
          const json = historyToJSON(await client.workflow.getHandle(ex.workflowId, ex.runId).fetchHistory());
          const texts = [json, ...decodedStrings(JSON.parse(json))];
          tagSeen ||= !json.includes(GOOD) && texts.some((t) => t.includes(GOOD));
          for (const [name, value] of Object.entries(secrets)) {
            if (texts.some((t) => t.includes(value))) leaks.push(`${name} in ${ex.workflowId} (run ${ex.runId})`);
          }
        }
      } finally {
        await connection.close();
      }
      assert.ok(tagSeen, 'the search reads the decoded payloads');
      assert.deepEqual(leaks, [], `secrets found in ${listed.length} histories`);
    });
  });
});
