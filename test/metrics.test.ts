/**
 * The labels of Slipway's metrics that are decided by pure code: ECS actions by throttling
 * category, and which AWS errors count as throttling. (The exported metrics themselves are
 * checked on a real worker's Prometheus endpoint in worker-process.test.ts.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ecsCallCategory, isThrottling, METRICS } from '../domain/metrics';
import { REPO_ROOT } from '../sandbox/tools';

describe('metrics labels', () => {
  it('puts ECS actions in their throttling category', () => {
    const table: [string, string][] = [
      ['DescribeServices', 'service_read'],
      ['DescribeServicesCommand', 'service_read'],
      ['ListServiceDeployments', 'service_read'],
      ['DescribeServiceDeployments', 'service_read'],
      ['DescribeServiceRevisions', 'service_read'],
      ['UpdateService', 'service_write'],
      ['StopServiceDeployment', 'service_write'],
      ['DescribeTaskDefinition', 'task_definition_read'],
      ['ListTaskDefinitions', 'task_definition_read'],
      ['RegisterTaskDefinition', 'task_definition_write'],
      ['ListTasks', 'task_read'],
      ['DescribeTasks', 'task_read'],
      ['DescribeClusters', 'cluster_read'],
      ['TagResource', 'tagging'],
      ['PutAccountSetting', 'other'],
    ];
    for (const [action, category] of table) assert.equal(ecsCallCategory(action), category, action);
  });

  it('has a category for every ECS command the activities send', () => {
    const source = readFileSync(join(REPO_ROOT, 'activities', 'ecs.ts'), 'utf8');
    const commands = [...new Set([...source.matchAll(/new (\w+Command)\(/g)].map((m) => m[1]))];
    assert.ok(commands.length >= 8, `found ${commands.join(', ')}`);
    for (const c of commands) assert.notEqual(ecsCallCategory(c), 'other', `${c} has no category`);
  });

  it('counts throttling answers, not other errors', () => {
    assert.equal(isThrottling({ name: 'ThrottlingException' }), true);
    assert.equal(isThrottling({ name: 'TooManyRequestsException' }), true);
    assert.equal(isThrottling({ name: 'Unknown', $metadata: { httpStatusCode: 429 } }), true);
    assert.equal(isThrottling({ name: 'ServerException', $metadata: { httpStatusCode: 500 } }), false);
    assert.equal(isThrottling({ name: 'ClientException', $metadata: { httpStatusCode: 400 } }), false);
    assert.equal(isThrottling(undefined), false);
  });
});

describe('docs/observability.md', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'observability.md'), 'utf8');
  const block = (lang: string) => [...doc.matchAll(/```(\w+)\n([\s\S]*?)```/g)].find((m) => m[1] === lang)?.[2] ?? '';
  const known = new Set<string>(Object.values(METRICS));
  const names = (text: string) => [...text.matchAll(/\bslipway_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));

  it('alerts on a rolled-back production deploy, over metrics the worker exports', () => {
    const rules = parseYaml(block('yaml')).groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules);
    const rolledBack = rules.find((r: { alert: string }) => r.alert === 'SlipwayProductionDeployRolledBack');
    assert.ok(rolledBack, 'the alert is there');
    assert.match(rolledBack.expr, /slipway_operations\{workflowType="deploy", env="production", outcome="rolled_back_by_ecs"\}/);
    for (const r of rules) for (const n of names(r.expr)) assert.ok(known.has(n), `${r.alert} uses ${n}, which the worker does not export`);
  });

  it('has a Grafana panel (valid JSON) over metrics the worker exports', () => {
    const panel = JSON.parse(block('json'));
    assert.equal(panel.type, 'timeseries');
    assert.ok(panel.targets.length > 0);
    for (const t of panel.targets) for (const n of names(t.expr)) assert.ok(known.has(n), `panel query uses ${n}`);
  });
});
