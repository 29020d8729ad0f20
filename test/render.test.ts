import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ContainerDefinition, RegisterTaskDefinitionRequest, TaskDefinition } from '@aws-sdk/client-ecs';
import { parseConfig, resolveTarget, type Target } from '../domain/config';
import { BadInput } from '../domain/errors';
import { diffTaskDefinitions, formatChange, REGISTER_FIELDS, renderTaskDefinition } from '../domain/render';

const ROOT = join(__dirname, '..');
const config = parseConfig(readFileSync(join(ROOT, 'config', 'openverse.yaml'), 'utf8'), 'config/openverse.yaml');

/** A fixture template as DescribeTaskDefinition returns it. */
function template(family: string): TaskDefinition {
  return JSON.parse(readFileSync(join(ROOT, 'sandbox', 'fixtures', 'templates', `${family}.json`), 'utf8'));
}

/** Freezes an object graph so any write to it throws. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function container(td: TaskDefinition | RegisterTaskDefinitionRequest, name: string): ContainerDefinition {
  const found = td.containerDefinitions?.find((c) => c.name === name);
  assert.ok(found, `no container ${name}`);
  return found;
}

const SHA = '3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a';
const OLD_SHA = 'a'.repeat(40);
const READ_ONLY = ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy', 'deregisteredAt', 'deleteRequestedAt'];
const KEPT_PER_CONTAINER = ['environment', 'secrets', 'logConfiguration', 'healthCheck', 'portMappings', 'dependsOn', 'essential', 'command', 'ulimits'] as const;

const targets: { app: string; env: string; containers: Record<string, string> }[] = [
  { app: 'api', env: 'staging', containers: { django: `ghcr.io/wordpress/openverse-api:${SHA}`, nginx: `ghcr.io/wordpress/openverse-api_nginx:${SHA}` } },
  { app: 'api', env: 'production', containers: { django: `ghcr.io/wordpress/openverse-api:${SHA}`, nginx: `ghcr.io/wordpress/openverse-api_nginx:${SHA}` } },
  { app: 'frontend', env: 'staging', containers: { nuxt: `ghcr.io/wordpress/openverse-frontend:${SHA}` } },
  { app: 'frontend', env: 'production', containers: { nuxt: `ghcr.io/wordpress/openverse-frontend:${SHA}` } },
];

describe('renderTaskDefinition against the fixture templates', () => {
  for (const t of targets) {
    const target = resolveTarget(config, t.app, t.env);
    const name = `${t.app} ${t.env} (${target.templateFamily})`;

    it(`${name}: sets every configured container's image`, () => {
      const out = renderTaskDefinition(template(target.templateFamily), target, SHA);
      for (const [c, image] of Object.entries(t.containers)) assert.equal(container(out, c).image, image);
    });

    it(`${name}: registers under the family without -template`, () => {
      const out = renderTaskDefinition(template(target.templateFamily), target, SHA);
      assert.equal(out.family, target.templateFamily.replace(/-template$/, ''));
      assert.equal(out.family, target.family);
    });

    it(`${name}: keeps environment, secrets, logConfiguration and the rest untouched`, () => {
      const tpl = template(target.templateFamily);
      const out = renderTaskDefinition(tpl, target, SHA);
      assert.equal(out.containerDefinitions?.length, tpl.containerDefinitions?.length);
      for (const before of tpl.containerDefinitions ?? []) {
        const after = container(out, before.name!);
        for (const field of KEPT_PER_CONTAINER) assert.deepEqual(after[field], before[field], `${before.name}.${field}`);
        assert.deepEqual({ ...after, image: undefined }, { ...before, image: undefined });
      }
      for (const field of ['taskRoleArn', 'executionRoleArn', 'networkMode', 'cpu', 'memory', 'runtimePlatform', 'requiresCompatibilities', 'volumes'] as const) {
        assert.deepEqual(out[field], tpl[field], field);
      }
      assert.ok((container(out, Object.keys(t.containers)[0]).environment ?? []).length > 0, 'fixture has environment variables');
    });

    it(`${name}: drops the read-only fields`, () => {
      const tpl = template(target.templateFamily);
      for (const field of READ_ONLY.slice(0, 7)) assert.ok(field in tpl, `fixture has ${field}`);
      const out = renderTaskDefinition(tpl, target, SHA);
      for (const field of READ_ONLY) assert.equal(field in out, false, `${field} kept`);
      const allowed = new Set<string>([...REGISTER_FIELDS, 'tags']);
      assert.deepEqual(
        Object.keys(out).filter((k) => !allowed.has(k)),
        [],
      );
    });

    it(`${name}: does not modify the template nor share objects with it`, () => {
      const tpl = deepFreeze(template(target.templateFamily));
      const snapshot = JSON.stringify(tpl);
      const out = renderTaskDefinition(tpl, target, SHA);
      assert.equal(JSON.stringify(tpl), snapshot);
      for (const c of out.containerDefinitions ?? []) {
        c.environment?.push({ name: 'X', value: 'y' });
        if (c.logConfiguration?.options) c.logConfiguration.options['awslogs-group'] = 'changed';
      }
      assert.equal(JSON.stringify(tpl), snapshot);
    });
  }
});

describe('renderTaskDefinition details', () => {
  const target = resolveTarget(config, 'api', 'staging');

  it('names the missing container, the template and the containers it has', () => {
    const tpl = template('staging-api-template');
    tpl.containerDefinitions = tpl.containerDefinitions!.filter((c) => c.name !== 'django');
    assert.throws(
      () => renderTaskDefinition(tpl, target, SHA),
      (e: unknown) =>
        e instanceof BadInput &&
        /no container "django"/.test(e.message) &&
        /staging-api-template/.test(e.message) &&
        /its containers are: nginx\./.test(e.message) &&
        e.problems.length === 1 &&
        e.problems[0].startsWith('apps.api.environments.staging.containers.django: '),
    );
  });

  it('names every missing container at once', () => {
    const tpl = template('staging-api-template');
    tpl.containerDefinitions = [{ ...tpl.containerDefinitions![0], name: 'web' }];
    assert.throws(
      () => renderTaskDefinition(tpl, target, SHA),
      (e: unknown) => e instanceof BadInput && /"django", "nginx"/.test(e.message) && /its containers are: web\./.test(e.message) && e.problems.length === 2,
    );
  });

  it('leaves containers that are not configured alone', () => {
    const tpl = template('staging-api-template');
    const sidecar: ContainerDefinition = {
      name: 'otel-collector',
      image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0',
      essential: false,
      environment: [{ name: 'A', value: 'b' }],
    };
    tpl.containerDefinitions!.push(sidecar);
    const out = renderTaskDefinition(tpl, target, SHA);
    assert.deepEqual(container(out, 'otel-collector'), sidecar);
    assert.deepEqual(
      out.containerDefinitions!.map((c) => c.name),
      ['nginx', 'django', 'otel-collector'],
    );
  });

  it('refuses a template of another family', () => {
    assert.throws(
      () => renderTaskDefinition(template('production-api-template'), target, SHA),
      (e: unknown) => e instanceof BadInput && /production-api-template/.test(e.message) && /expected staging-api-template/.test(e.message),
    );
  });

  it('refuses a malformed image tag', () => {
    for (const tag of ['', 'latest; rm -rf /', '../x', 'sha256:abc']) {
      assert.throws(() => renderTaskDefinition(template('staging-api-template'), target, tag), BadInput, JSON.stringify(tag));
    }
  });

  it('adds the given tags to the request', () => {
    const tags = [
      { key: 'slipway:deployment', value: 'd-1' },
      { key: 'slipway:image-tag', value: SHA },
    ];
    assert.deepEqual(renderTaskDefinition(template('staging-api-template'), target, SHA, tags).tags, tags);
    assert.equal('tags' in renderTaskDefinition(template('staging-api-template'), target, SHA), false);
  });

  const badTags: [string, { key: string; value: string }[], RegExp][] = [
    ['empty key', [{ key: '', value: 'x' }], /tags\[0\]\.key: is required/],
    ['reserved key', [{ key: 'aws:cloudformation:stack', value: 'x' }], /reserved/],
    [
      'duplicate key',
      [
        { key: 'a', value: '1' },
        { key: 'a', value: '2' },
      ],
      /tags\[1\]\.key: "a" is given more than once/,
    ],
    ['long value', [{ key: 'a', value: 'v'.repeat(257) }], /longer than 256/],
    ['too many', Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })), /at most 50/],
  ];
  for (const [name, tags, re] of badTags) {
    it(`refuses resource tags: ${name}`, () => {
      assert.throws(
        () => renderTaskDefinition(template('staging-api-template'), target, SHA, tags),
        (e: unknown) => e instanceof BadInput && e.problems.some((p) => re.test(p)),
      );
    });
  }

  it('works on a template whose registeredAt is a Date, as the SDK returns it', () => {
    const tpl = template('staging-api-template');
    tpl.registeredAt = new Date('2024-05-14T09:21:07.412Z');
    const out = renderTaskDefinition(tpl, target, SHA);
    assert.equal('registeredAt' in out, false);
  });
});

describe('diffTaskDefinitions', () => {
  const target: Target = resolveTarget(config, 'api', 'staging');
  const render = (tag: string, edit?: (td: TaskDefinition) => void) => {
    const tpl = template('staging-api-template');
    edit?.(tpl);
    return renderTaskDefinition(tpl, target, tag);
  };

  it('shows only the images when only the tag changes', () => {
    assert.deepEqual(diffTaskDefinitions(render(OLD_SHA), render(SHA)), [
      { path: 'containerDefinitions.nginx.image', from: `ghcr.io/wordpress/openverse-api_nginx:${OLD_SHA}`, to: `ghcr.io/wordpress/openverse-api_nginx:${SHA}` },
      { path: 'containerDefinitions.django.image', from: `ghcr.io/wordpress/openverse-api:${OLD_SHA}`, to: `ghcr.io/wordpress/openverse-api:${SHA}` },
    ]);
  });

  it('is empty for the same rendering', () => {
    assert.deepEqual(diffTaskDefinitions(render(SHA), render(SHA)), []);
  });

  it('ignores read-only fields and resource tags of a live task definition', () => {
    const live = { ...template('staging-api-template'), family: 'staging-api', revision: 99, status: 'ACTIVE' } as TaskDefinition;
    const rendered = { ...renderTaskDefinition(template('staging-api-template'), target, 'latest'), tags: [{ key: 'a', value: 'b' }] };
    assert.deepEqual(diffTaskDefinitions(live, rendered), []);
  });

  it('names environment variables and secrets by name, ignoring their order', () => {
    const live = render(SHA);
    const next = render(SHA, (td) => {
      const django = td.containerDefinitions!.find((c) => c.name === 'django')!;
      django.environment!.reverse();
      django.environment!.find((e) => e.name === 'DJANGO_LOG_LEVEL')!.value = 'DEBUG';
      django.environment!.push({ name: 'NEW_FLAG', value: 'on' });
      django.secrets = django.secrets!.filter((s) => s.name !== 'PHOTON_AUTH_KEY');
      td.memory = '4096';
    });
    assert.deepEqual(diffTaskDefinitions(live, next), [
      { path: 'containerDefinitions.django.environment.DJANGO_LOG_LEVEL', from: 'INFO', to: 'DEBUG' },
      { path: 'containerDefinitions.django.environment.NEW_FLAG', from: undefined, to: 'on' },
      {
        path: 'containerDefinitions.django.secrets.PHOTON_AUTH_KEY',
        from: 'arn:aws:ssm:us-east-1:123456789012:parameter/staging/api/photon-auth-key',
        to: undefined,
      },
      { path: 'memory', from: '2048', to: '4096' },
    ]);
  });

  it('puts image changes first and treats empty lists as absent', () => {
    const live = render(OLD_SHA, (td) => {
      td.cpu = '512';
      delete td.volumes;
      td.containerDefinitions![1].mountPoints = undefined;
    });
    const changes = diffTaskDefinitions(live, render(SHA));
    assert.deepEqual(
      changes.map((c) => c.path),
      ['containerDefinitions.nginx.image', 'containerDefinitions.django.image', 'cpu'],
    );
  });

  it('reports a removed container field by field (image first), and lists inside containers whole', () => {
    const live = render(SHA, (td) => {
      td.containerDefinitions!.push({ name: 'sidecar', image: 'busybox' });
      td.containerDefinitions![1].healthCheck!.command = ['CMD-SHELL', 'true'];
    });
    assert.deepEqual(diffTaskDefinitions(live, render(SHA)), [
      { path: 'containerDefinitions.sidecar.image', from: 'busybox', to: undefined },
      {
        path: 'containerDefinitions.django.healthCheck.command',
        from: ['CMD-SHELL', 'true'],
        to: ['CMD-SHELL', 'curl -fsS http://localhost:8000/healthcheck/ || exit 1'],
      },
      { path: 'containerDefinitions.sidecar.name', from: 'sidecar', to: undefined },
    ]);
  });

  it('lists everything as added when nothing is live yet', () => {
    const changes = diffTaskDefinitions(undefined, render(SHA));
    assert.ok(changes.length > 0);
    assert.ok(changes.every((c) => c.from === undefined));
    assert.ok(changes.some((c) => c.path === 'family' && c.to === 'staging-api'));
    assert.ok(changes.some((c) => c.path === 'containerDefinitions.django.image'));
    assert.equal(changes[0].path, 'containerDefinitions.nginx.image', 'images first');
    assert.ok(changes.some((c) => c.path === 'containerDefinitions.django.environment.DJANGO_LOG_LEVEL' && c.to === 'INFO'));
    assert.ok(
      changes.every((c) => !(typeof c.to === 'object' && c.to !== null && !Array.isArray(c.to))),
      'leaves only',
    );
  });

  it('formats changes for a plan', () => {
    assert.equal(formatChange({ path: 'cpu', from: '512', to: '1024' }), '~ cpu: 512 → 1024');
    assert.equal(formatChange({ path: 'a.B', from: undefined, to: 'on' }), '+ a.B: on');
    assert.equal(formatChange({ path: 'a.c', from: ['x'], to: undefined }), '- a.c: ["x"]');
  });
});
