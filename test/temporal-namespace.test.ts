/**
 * Where Slipway connects: the Temporal connection as the `temporal` CLI reads it (profiles
 * of temporal.toml, TEMPORAL_* overrides), and the config's `temporal.namespace` and
 * `temporal.uiUrl` honoured by the CLI and the worker — on a real dev server with a
 * namespace of its own.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type Long from 'long';
import { temporalSettings } from '../client/temporal-env';
import { pipelineStateQuery, pipelineWorkflowId, SA } from '../contract';
import { eventually, freshTaskQueue, runSlipway, spawnWorkerProcess, startStack, type Stack } from './harness';

describe('temporalSettings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-envconfig-'));
  const toml = join(dir, 'temporal.toml');
  writeFileSync(
    toml,
    ['[profile.default]', 'address = "default.example:7233"', '', '[profile.ci]', 'address = "ci.example:7233"', 'namespace = "from-profile"', 'api_key = "k"'].join('\n'),
  );

  it('reads the profile named by TEMPORAL_PROFILE, like the temporal CLI', () => {
    const s = temporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'ci' });
    assert.equal(s.address, 'ci.example:7233');
    assert.equal(s.namespace, 'from-profile');
    assert.equal(s.apiKey, 'k');
    assert.ok(s.tls, 'an API key turns TLS on, as the CLI does');
    assert.equal(temporalSettings({ TEMPORAL_CONFIG_FILE: toml }).address, 'default.example:7233');
  });

  it('namespace and UI: TEMPORAL_* over the config over the profile', () => {
    const config = { namespace: 'from-config', uiUrl: 'https://temporal.example.org/' };
    const fromConfig = temporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'ci' }, config);
    assert.equal(fromConfig.namespace, 'from-config');
    assert.equal(fromConfig.uiUrl, 'https://temporal.example.org');
    const fromEnv = temporalSettings(
      { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'ci', TEMPORAL_NAMESPACE: 'from-env', TEMPORAL_UI_URL: 'http://ui:8080', TEMPORAL_ADDRESS: 'env:7233' },
      config,
    );
    assert.deepEqual([fromEnv.namespace, fromEnv.uiUrl, fromEnv.address], ['from-env', 'http://ui:8080', 'env:7233']);
  });

  it('a profile that is not in the file is named in the error', () => {
    assert.throws(() => temporalSettings({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' }), /profile nope/);
  });
});

describe('temporal.namespace and temporal.uiUrl in the config', () => {
  const NS = `slipway-ns-${process.pid}`;
  const UI = 'https://temporal.example.org';
  let stack: Stack;
  let worker: ChildProcess | undefined;
  before(async () => {
    stack = await startStack({
      configure: (raw) => {
        raw.temporal = { ...raw.temporal, namespace: NS, uiUrl: UI };
        raw.apps.api.pipeline = { approvals: 1 };
      },
    });
    await stack.connection.workflowService.registerNamespace({ namespace: NS, workflowExecutionRetentionPeriod: { seconds: 86_400 as unknown as Long } });
    await eventually('the namespace to be known', () =>
      stack.connection.workflowService.describeNamespace({ namespace: NS }).then(
        () => true,
        () => false,
      ),
    );
    await stack.connection.operatorService.addSearchAttributes({
      namespace: NS,
      searchAttributes: Object.fromEntries(Object.values(SA).map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  });
  after(async () => {
    worker?.kill('SIGTERM');
    await stack?.close();
  });

  const slipway = (args: string[], extra: NodeJS.ProcessEnv = {}) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|GITHUB_|SLIPWAY_)/.test(k)));
    const env = { ...base, TEMPORAL_ADDRESS: stack.temporal.address, SLIPWAY_CONFIG: stack.configPath, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
    return runSlipway(args, { cwd: stack.dir, env });
  };

  it('the CLI starts the pipeline in that namespace, the worker serves it there, links use uiUrl; TEMPORAL_NAMESPACE overrides', async () => {
    const tq = freshTaskQueue('namespace');
    worker = await spawnWorkerProcess(stack, tq);
    const sha = stack.world.github.addCommit('WordPress', 'openverse', { message: 'In its own namespace' });
    await stack.world.pushTags(sha);

    const merged = await slipway(['pipeline', 'merged', 'api', '--sha', sha, '--actor', 'alice', '--title', 'ns'], { SLIPWAY_TASK_QUEUE: tq });
    assert.equal(merged.code, 0, merged.stderr);
    assert.ok(merged.stdout.includes(`${UI}/namespaces/${NS}/workflows/${encodeURIComponent(pipelineWorkflowId('api'))}`), merged.stdout);

    const inNs = new Client({ connection: stack.connection, namespace: NS });
    const handle = inNs.workflow.getHandle(pipelineWorkflowId('api'));
    // A query is answered only by a worker polling that namespace.
    const s = await eventually(
      'the worker to serve the pipeline in the namespace',
      () =>
        handle.query(pipelineStateQuery).then(
          (x) => (x.candidate?.sha === sha ? x : undefined),
          () => undefined,
        ),
      60_000,
      200,
    );
    assert.equal(s.app, 'api');
    await assert.rejects(stack.client.workflow.getHandle(pipelineWorkflowId('api')).describe(), /not found/i, 'nothing in the default namespace');

    const elsewhere = await slipway(['pipeline', 'status', 'api'], { TEMPORAL_NAMESPACE: 'default' });
    assert.equal(elsewhere.code, 2, `${elsewhere.stdout}${elsewhere.stderr}`);
    assert.match(elsewhere.stderr, /no pipeline running yet/);
    await handle.terminate('test done');
  });

  it("a namespace without Slipway's search attributes: exit 6 with the command that registers them, nothing started", async () => {
    const bare = `${NS}-bare`;
    await stack.connection.workflowService.registerNamespace({ namespace: bare, workflowExecutionRetentionPeriod: { seconds: 86_400 as unknown as Long } });
    await eventually('the namespace to be known', () =>
      stack.connection.workflowService.describeNamespace({ namespace: bare }).then(
        () => true,
        () => false,
      ),
    );
    const run = await slipway(['deploy', 'api', 'staging', 'a'.repeat(40), '--actor', 'alice', '--no-wait'], { TEMPORAL_NAMESPACE: bare });
    assert.equal(run.code, 6, `${run.stdout}${run.stderr}`);
    assert.match(run.stderr, new RegExp(`namespace "${bare}" has no search attribute \\w+`));
    assert.match(run.stderr, new RegExp(`temporal operator search-attribute create --namespace ${bare} --name SlipwayOperation --type Keyword`));
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    const inBare = new Client({ connection: stack.connection, namespace: bare });
    await assert.rejects(inBare.workflow.getHandle('deploy/api/staging').describe(), /not found/i, 'nothing started');
  });
});
