/**
 * The ECS sandbox driven through the real @aws-sdk/client-ecs: task definitions, rollouts,
 * circuit-breaker rollbacks, superseded deployments, fault injection and errors.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  DeregisterTaskDefinitionCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionRequest,
  type Service,
  type ServiceDeployment,
  StopServiceDeploymentCommand,
  TagResourceCommand,
  ContinueServiceDeploymentCommand,
  type DeploymentConfiguration,
  UpdateServiceCommand,
  waitUntilServicesStable,
} from '@aws-sdk/client-ecs';
import { type EcsSandbox, startEcsSandbox } from '../sandbox/ecs';
import { seedOpenverse } from '../sandbox/openverse';

/** A configured minute lasts 20 ms here, so bake times and hook timeouts are testable. */
const TIMING = { taskStartMs: 80, healthyMs: 80, drainMs: 40, minuteMs: 20, hookMs: 40 };
const CLUSTER = 'test-cluster';
const SERVICE = 'web';

function client(sandbox: EcsSandbox, maxAttempts?: number): ECSClient {
  return new ECSClient({
    endpoint: sandbox.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...(maxAttempts ? { maxAttempts } : {}),
  });
}

function taskDefinition(family: string, tag: string): RegisterTaskDefinitionRequest {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    containerDefinitions: [
      {
        name: 'app',
        image: `registry.example/app:${tag}`,
        portMappings: [{ containerPort: 8080 }],
        environment: [{ name: 'MODE', value: 'test' }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/app' } },
        healthCheck: { command: ['CMD-SHELL', 'curl -f http://localhost:8080/ || exit 1'] },
      },
    ],
  };
}

/** Polls until `fn` returns a truthy value. */
async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('ECS sandbox', () => {
  let sandbox: EcsSandbox;
  let ecs: ECSClient;

  beforeEach(async () => {
    sandbox = await startEcsSandbox({ timing: TIMING });
    ecs = client(sandbox);
  });
  afterEach(async () => {
    ecs.destroy();
    await sandbox.close();
  });

  async function describeService(): Promise<Service> {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }));
    return out.services![0];
  }

  async function serviceDeployment(arn: string): Promise<ServiceDeployment> {
    const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }));
    return out.serviceDeployments![0];
  }

  async function waitFor(arn: string, statuses: string[]): Promise<ServiceDeployment> {
    return until(`service deployment in ${statuses.join('/')}`, async () => {
      const sd = await serviceDeployment(arn);
      return statuses.includes(sd.status ?? '') ? sd : undefined;
    });
  }

  /** Registers `tag` and points the service at it; returns the new ARN and service deployment. */
  async function deploy(tag: string): Promise<{ taskDefinitionArn: string; serviceDeploymentArn: string; service: Service }> {
    const registered = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('web', tag)));
    const taskDefinitionArn = registered.taskDefinition!.taskDefinitionArn!;
    const out = await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: taskDefinitionArn }));
    assert.ok(out.service?.currentServiceDeployment, 'UpdateService answers the service deployment it started');
    return { taskDefinitionArn, serviceDeploymentArn: out.service.currentServiceDeployment, service: out.service };
  }

  function seed(opts: { desiredCount?: number; rollback?: boolean } = {}) {
    return sandbox.seedService({
      cluster: CLUSTER,
      service: SERVICE,
      desiredCount: opts.desiredCount ?? 2,
      taskDefinition: taskDefinition('web', 'v1'),
      circuitBreaker: { enable: opts.rollback ?? true, rollback: opts.rollback ?? true },
    });
  }

  it('registers, describes, lists and tags task definitions', async () => {
    const first = await ecs.send(new RegisterTaskDefinitionCommand({ ...taskDefinition('api', 'v1'), tags: [{ key: 'slipway:deployment', value: 'wf/1' }] }));
    const td = first.taskDefinition!;
    assert.equal(td.taskDefinitionArn, 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:1');
    assert.equal(td.revision, 1);
    assert.equal(td.status, 'ACTIVE');
    assert.ok(td.registeredAt instanceof Date);
    assert.deepEqual(td.compatibilities, ['EC2', 'FARGATE']);
    assert.ok(td.requiresAttributes?.some((a) => a.name === 'ecs.capability.task-eni'));
    assert.equal(td.containerDefinitions![0].portMappings![0].hostPort, 8080);
    assert.equal(td.containerDefinitions![0].essential, true);
    assert.deepEqual(first.tags, [{ key: 'slipway:deployment', value: 'wf/1' }]);

    for (const tag of ['v2', 'v3']) await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('api', tag)));
    await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('api-template', 'latest')));

    const latest = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api' }));
    assert.equal(latest.taskDefinition?.revision, 3);
    assert.equal(latest.tags, undefined);
    const tagged = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api:1', include: ['TAGS'] }));
    assert.deepEqual(tagged.tags, [{ key: 'slipway:deployment', value: 'wf/1' }]);
    const byArn = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: td.taskDefinitionArn }));
    assert.match(byArn.taskDefinition!.containerDefinitions![0].image!, /:v1$/);

    // familyPrefix is the full family name; pages of 2, newest first.
    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'api', sort: 'DESC', maxResults: 2, nextToken }));
      pages.push((page.taskDefinitionArns ?? []).map((a) => a.split('/').pop()!));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(pages, [['api:3', 'api:2'], ['api:1']]);
    const all = await ecs.send(new ListTaskDefinitionsCommand({}));
    assert.deepEqual(
      all.taskDefinitionArns?.map((a) => a.split('/').pop()),
      ['api:1', 'api:2', 'api:3', 'api-template:1'],
    );

    const gone = await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'api:3' }));
    assert.equal(gone.taskDefinition?.status, 'INACTIVE');
    assert.ok(gone.taskDefinition?.deregisteredAt instanceof Date);
    const active = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'api' }));
    assert.deepEqual(
      active.taskDefinitionArns?.map((a) => a.split('/').pop()),
      ['api:1', 'api:2'],
    );
    const inactive = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'api', status: 'INACTIVE' }));
    assert.deepEqual(
      inactive.taskDefinitionArns?.map((a) => a.split('/').pop()),
      ['api:3'],
    );
    assert.equal((await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'api' }))).taskDefinition?.revision, 2);
    const next = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('api', 'v4')));
    assert.equal(next.taskDefinition?.revision, 4, 'revisions keep counting after a deregistration');

    await ecs.send(new TagResourceCommand({ resourceArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:2', tags: [{ key: 'k', value: 'v' }] }));
    const listed = await ecs.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/api:2' }));
    assert.deepEqual(listed.tags, [{ key: 'k', value: 'v' }]);

    const invalid = await rejection(ecs.send(new RegisterTaskDefinitionCommand({ family: 'api', containerDefinitions: [{ name: 'app', image: '' }] })));
    assert.equal(invalid.name, 'ClientException');
    assert.match(invalid.message, /image/);
    const missing = await rejection(ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'nope:1' })));
    assert.equal(missing.name, 'ClientException');

    assert.deepEqual(
      sandbox.mutations().map((c) => c.op),
      ['RegisterTaskDefinition', 'RegisterTaskDefinition', 'RegisterTaskDefinition', 'RegisterTaskDefinition', 'DeregisterTaskDefinition', 'RegisterTaskDefinition', 'TagResource'],
      'rejected calls are not mutations',
    );
  });

  it('rolls a new task definition out to SUCCESSFUL', async () => {
    const seeded = seed();
    const steady = await describeService();
    assert.equal(steady.taskDefinition, seeded.taskDefinitionArn);
    assert.equal(steady.runningCount, 2);
    assert.deepEqual(steady.deploymentConfiguration?.deploymentCircuitBreaker, { enable: true, rollback: true });
    assert.equal(steady.events?.[0].message, `(service ${SERVICE}) has reached a steady state.`);
    sandbox.resetCalls();

    const { taskDefinitionArn, serviceDeploymentArn, service } = await deploy('v2');
    const [primary, active] = service.deployments!;
    assert.equal(primary.status, 'PRIMARY');
    assert.equal(primary.taskDefinition, taskDefinitionArn);
    assert.equal(primary.rolloutState, 'IN_PROGRESS');
    assert.equal(active.status, 'ACTIVE');
    assert.equal(active.taskDefinition, seeded.taskDefinitionArn);

    const done = await waitFor(serviceDeploymentArn, ['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);
    assert.equal(done.status, 'SUCCESSFUL');
    assert.ok(done.finishedAt instanceof Date && done.startedAt instanceof Date);
    assert.equal(done.targetServiceRevision?.requestedTaskCount, 2);
    assert.equal(done.deploymentCircuitBreaker?.status, 'MONITORING_COMPLETE');

    // ListServiceDeployments → DescribeServiceRevisions leads to our task definition.
    const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: SERVICE }));
    assert.equal(list.serviceDeployments?.length, 2);
    const newest = list.serviceDeployments![0];
    assert.equal(newest.serviceDeploymentArn, serviceDeploymentArn);
    assert.equal(newest.status, 'SUCCESSFUL');
    const revisions = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [newest.targetServiceRevisionArn!] }));
    assert.equal(revisions.serviceRevisions?.[0].taskDefinition, taskDefinitionArn);
    assert.equal(revisions.serviceRevisions?.[0].serviceArn, service.serviceArn);
    const filtered = await ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: SERVICE, status: ['IN_PROGRESS'] }));
    assert.deepEqual(filtered.serviceDeployments, []);

    const after = await until('the counts to settle', async () => {
      const svc = await describeService();
      return svc.deployments?.length === 1 ? svc : undefined;
    });
    const p = after.deployments![0];
    assert.equal(after.taskDefinition, taskDefinitionArn);
    assert.equal(p.taskDefinition, taskDefinitionArn);
    assert.equal(p.rolloutState, 'COMPLETED');
    assert.ok(p.runningCount! >= p.desiredCount! && p.desiredCount! > 0);
    const messages = after.events!.map((e) => e.message!);
    assert.equal(messages[0], `(service ${SERVICE}) has reached a steady state.`);
    assert.ok(messages.includes(`(service ${SERVICE}) (deployment ${p.id}) deployment completed.`));
    assert.ok(messages.some((m) => /^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/.test(m)));
    assert.ok(messages.some((m) => /has stopped 2 running tasks/.test(m)));

    const running = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE }));
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: running.taskArns! }))).tasks!;
    assert.equal(tasks.length, 2);
    for (const t of tasks) {
      assert.equal(t.taskDefinitionArn, taskDefinitionArn);
      assert.equal(t.lastStatus, 'RUNNING');
      assert.equal(t.healthStatus, 'HEALTHY');
      assert.equal(t.startedBy, p.id);
      assert.equal(t.group, `service:${SERVICE}`);
      assert.equal(t.containers?.[0].image, 'registry.example/app:v2');
    }
    const stopped = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE, desiredStatus: 'STOPPED' }));
    const old = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: stopped.taskArns! }))).tasks!;
    assert.equal(old.length, 2);
    assert.ok(old.every((t) => t.stopCode === 'ServiceSchedulerInitiated' && t.taskDefinitionArn === seeded.taskDefinitionArn));

    assert.deepEqual(
      sandbox.mutations().map((c) => c.op),
      ['RegisterTaskDefinition', 'UpdateService'],
    );
    const snapshot = sandbox.service(CLUSTER, SERVICE);
    assert.equal(snapshot.taskDefinition, taskDefinitionArn);
    assert.equal(snapshot.steady, true);
  });

  it('rolls a failing image back with the circuit breaker, registering nothing', async () => {
    const seeded = seed();
    sandbox.failImage(/app:bad$/, { reason: 'CannotStartContainerError: app exited', exitCode: 3 });
    sandbox.resetCalls();

    const { taskDefinitionArn, serviceDeploymentArn } = await deploy('bad');
    const seen = new Set<string>();
    // While the rollback runs, the failed deployment is listed beside the one rolled back to.
    let failed: NonNullable<Service['deployments']>[number] | undefined;
    const done = await until(
      'the rollback to finish',
      async () => {
        const sd = await serviceDeployment(serviceDeploymentArn);
        seen.add(sd.status!);
        if (sd.status === 'ROLLBACK_IN_PROGRESS') failed ??= (await describeService()).deployments!.find((d) => d.taskDefinition === taskDefinitionArn);
        return ['ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED', 'SUCCESSFUL', 'STOPPED'].includes(sd.status!) ? sd : undefined;
      },
      10_000,
      5,
    );
    assert.equal(done.status, 'ROLLBACK_SUCCESSFUL', [...seen].join(','));
    assert.ok(seen.has('ROLLBACK_IN_PROGRESS'), [...seen].join(','));
    assert.match(done.rollback?.reason ?? '', /circuit breaker/);
    assert.ok(done.rollback?.startedAt instanceof Date);
    assert.equal(done.deploymentCircuitBreaker?.status, 'TRIGGERED');
    assert.ok(done.deploymentCircuitBreaker!.failureCount! >= 2);
    assert.equal(done.deploymentCircuitBreaker?.threshold, 2);
    const [rolledBackTo] = (await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [done.rollback!.serviceRevisionArn!] }))).serviceRevisions!;
    assert.equal(rolledBackTo.taskDefinition, seeded.taskDefinitionArn);

    const svc = await describeService();
    assert.equal(svc.taskDefinition, seeded.taskDefinitionArn, 'back on the previous revision');
    const primary = svc.deployments!.find((d) => d.status === 'PRIMARY')!;
    assert.equal(primary.taskDefinition, seeded.taskDefinitionArn);
    assert.equal(primary.runningCount, 2);
    assert.ok(failed, 'the failed deployment was listed during the rollback');
    assert.equal(failed.rolloutState, 'FAILED');
    assert.equal(failed.rolloutStateReason, 'ECS deployment circuit breaker: tasks failed to start.');
    assert.ok(failed.failedTasks! >= 2);
    const messages = svc.events!.map((e) => e.message!);
    assert.ok(messages.includes(`(service ${SERVICE}) (deployment ${failed.id}) deployment failed: tasks failed to start.`));
    assert.ok(messages.includes(`(service ${SERVICE}) rolling back to deployment ${primary.id}.`));
    // As on ECS: once the failed deployment drained, the rolled-back-to one is PRIMARY and
    // alone, so `aws ecs wait services-stable` passes — though the deploy failed.
    assert.deepEqual(
      svc.deployments!.map((d) => [d.status, d.rolloutState]),
      [['PRIMARY', 'COMPLETED']],
    );
    const waited = await waitUntilServicesStable({ client: ecs, maxWaitTime: 10, minDelay: 1 }, { cluster: CLUSTER, services: [SERVICE] });
    assert.equal(waited.state, 'SUCCESS');

    assert.equal(sandbox.taskDefinitions('web').length, 2, 'the rollback registered no task definition');
    assert.deepEqual(
      sandbox.mutations().map((c) => c.op),
      ['RegisterTaskDefinition', 'UpdateService'],
    );

    const stopped = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE, desiredStatus: 'STOPPED' }));
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: stopped.taskArns! }))).tasks!;
    const failures = tasks.filter((t) => t.taskDefinitionArn === taskDefinitionArn && t.stopCode === 'EssentialContainerExited');
    assert.ok(failures.length >= 2);
    for (const t of failures) {
      assert.equal(t.stoppedReason, 'CannotStartContainerError: app exited');
      assert.equal(t.lastStatus, 'STOPPED');
      assert.ok(t.stoppedAt instanceof Date);
      assert.equal(t.containers?.[0].exitCode, 3);
      assert.equal(t.containers?.[0].reason, 'CannotStartContainerError: app exited');
    }
  });

  it('keeps replacing failing tasks when rollback is not enabled', async () => {
    seed({ desiredCount: 1, rollback: false });
    sandbox.failImage('app:bad');
    const { serviceDeploymentArn } = await deploy('bad');
    const svc = await until('failures beyond the threshold', async () => {
      const s = await describeService();
      return (s.deployments?.[0].failedTasks ?? 0) >= 3 ? s : undefined;
    });
    assert.equal(svc.deployments?.[0].rolloutState, 'IN_PROGRESS');
    assert.equal((await serviceDeployment(serviceDeploymentArn)).status, 'IN_PROGRESS');
    const stopped = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE, desiredStatus: 'STOPPED' }));
    const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: stopped.taskArns! }))).tasks!;
    assert.ok(tasks.some((t) => t.stoppedReason === 'Task failed container health checks' && t.stopCode === 'TaskFailedToStart'));
    assert.ok(svc.events!.some((e) => /failed container health checks/.test(e.message!)));

    // Once the image works, the same deployment completes.
    sandbox.clearFailures();
    assert.equal((await waitFor(serviceDeploymentArn, ['SUCCESSFUL'])).status, 'SUCCESSFUL');
  });

  it('stops a service deployment superseded by a newer one', async () => {
    seed();
    sandbox.setSpeed(0.5);
    const first = await deploy('v2');
    const second = await deploy('v3');
    const stopped = await waitFor(first.serviceDeploymentArn, ['STOPPED']);
    assert.match(stopped.statusReason ?? '', /superseded/);
    assert.ok(stopped.stoppedAt instanceof Date);
    sandbox.setSpeed(4);
    const done = await waitFor(second.serviceDeploymentArn, ['SUCCESSFUL']);
    assert.ok(done.sourceServiceRevisions!.length >= 1);
    const svc = await until('old tasks to drain', async () => {
      const s = await describeService();
      return s.deployments?.length === 1 ? s : undefined;
    });
    assert.equal(svc.taskDefinition, second.taskDefinitionArn);
    const list = await ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: SERVICE, maxResults: 2 }));
    assert.deepEqual(
      list.serviceDeployments?.map((b) => b.serviceDeploymentArn),
      [second.serviceDeploymentArn, first.serviceDeploymentArn],
    );
    assert.ok(list.nextToken);
    const rest = await ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: SERVICE, nextToken: list.nextToken }));
    assert.equal(rest.serviceDeployments?.length, 1);
    assert.equal(rest.nextToken, undefined);
    const later = await ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: SERVICE, createdAt: { after: new Date(Date.now() + 60_000) } }));
    assert.deepEqual(later.serviceDeployments, []);
  });

  it('rolls back on StopServiceDeployment', async () => {
    const seeded = seed();
    sandbox.setSpeed(0.2);
    const { serviceDeploymentArn } = await deploy('v2');
    await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: 'ROLLBACK' }));
    sandbox.setSpeed(1);
    const done = await waitFor(serviceDeploymentArn, ['ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);
    assert.equal(done.status, 'ROLLBACK_SUCCESSFUL');
    assert.match(done.rollback?.reason ?? '', /StopServiceDeployment/);
    const svc = await until('the new tasks to drain', async () => {
      const s = await describeService();
      return s.deployments?.every((d) => d.runningCount === 0 || d.taskDefinition === seeded.taskDefinitionArn) ? s : undefined;
    });
    assert.equal(svc.taskDefinition, seeded.taskDefinitionArn);
  });

  it('answers throttling and server errors without applying them', async () => {
    const seeded = seed();
    const once = client(sandbox, 1);
    try {
      sandbox.setFaults({ throttleRate: 1 });
      const throttled = await rejection(once.send(new RegisterTaskDefinitionCommand(taskDefinition('web', 'v2'))));
      assert.equal(throttled.name, 'ThrottlingException');
      assert.equal(throttled.$metadata?.httpStatusCode, 400);

      sandbox.setFaults({ errorRate: 1 });
      const failed = await rejection(once.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, forceNewDeployment: true })));
      assert.equal(failed.name, 'ServerException');
      assert.equal(failed.$metadata?.httpStatusCode, 500);

      // The SDK's own retry treats both as retryable.
      sandbox.resetCalls();
      const retried = await rejection(ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })));
      assert.equal(retried.name, 'ServerException');
      assert.equal(retried.$metadata?.attempts, 3);
      sandbox.setFaults({ throttleRate: 1 });
      const twice = client(sandbox, 2);
      try {
        const again = await rejection(twice.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })));
        assert.equal(again.name, 'ThrottlingException');
        assert.equal(again.$metadata?.attempts, 2);
      } finally {
        twice.destroy();
      }
      assert.deepEqual(
        sandbox.calls.map((c) => c.fault),
        ['error', 'error', 'error', 'throttle', 'throttle'],
      );

      // Seeded: the same seed gives the same faults.
      const pattern = async () => {
        sandbox.setFaults({ throttleRate: 0.3, errorRate: 0.2, seed: 42 });
        sandbox.resetCalls();
        for (let i = 0; i < 12; i++) await once.send(new ListTaskDefinitionsCommand({})).catch(() => undefined);
        return sandbox.calls.map((c) => c.fault ?? '-').join(' ');
      };
      const a = await pattern();
      assert.equal(await pattern(), a);
      assert.match(a, /throttle/);
      assert.match(a, /error/);
      assert.match(a, /-/);

      sandbox.setFaults({});
      assert.equal(sandbox.mutations().length, 0);
      assert.equal(sandbox.taskDefinitions('web').length, 1, 'the throttled registration was not applied');
      const svc = sandbox.service(CLUSTER, SERVICE);
      assert.equal(svc.serviceDeployments.length, 1, 'the failed UpdateService started nothing');
      assert.equal(svc.taskDefinition, seeded.taskDefinitionArn);
    } finally {
      once.destroy();
    }
  });

  it('applies a held call and answers it late', async () => {
    seed();
    sandbox.holdResponse('RegisterTaskDefinition', 10_000);
    const abort = new AbortController();
    const pending = rejection(ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('web', 'v2')), { abortSignal: abort.signal }));
    await until('the registration to be applied', () => sandbox.mutations('RegisterTaskDefinition').length === 1);
    abort.abort();
    await pending;
    sandbox.holdResponse('RegisterTaskDefinition', 0);
    assert.equal(sandbox.taskDefinitions('web').length, 2);
    const quick = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition('web', 'v3')));
    assert.equal(quick.taskDefinition?.revision, 3);
  });

  it('reports unknown services, clusters and operations', async () => {
    seed();
    const unknown = await rejection(ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'nope', desiredCount: 1 })));
    assert.equal(unknown.name, 'ServiceNotFoundException');
    const noDeployments = await rejection(ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER, service: 'nope' })));
    assert.equal(noDeployments.name, 'ServiceNotFoundException');
    const described = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE, 'nope'] }));
    assert.equal(described.services?.length, 1);
    assert.deepEqual(described.failures, [{ arn: `arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/nope`, reason: 'MISSING' }]);
    const noCluster = await rejection(ecs.send(new DescribeServicesCommand({ cluster: 'nope', services: [SERVICE] })));
    assert.equal(noCluster.name, 'ClusterNotFoundException');
    const sds = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: ['arn:aws:ecs:us-east-1:123456789012:service-deployment/x/y/z'] }));
    assert.equal(sds.failures?.[0].reason, 'MISSING');

    const res = await fetch(sandbox.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.Frobnicate', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.equal(((await res.json()) as { __type: string }).__type, 'UnknownOperationException');
    assert.equal(sandbox.calls.at(-1)?.error, 'UnknownOperationException');
  });

  describe('BLUE_GREEN, LINEAR and CANARY', () => {
    const LAMBDA = 'arn:aws:lambda:us-east-1:123456789012:function:smoke-test';
    function seedStrategy(config: DeploymentConfiguration) {
      return sandbox.seedService({
        cluster: CLUSTER,
        service: SERVICE,
        desiredCount: 2,
        taskDefinition: taskDefinition('web', 'v1'),
        circuitBreaker: { enable: true, rollback: true },
        deploymentConfiguration: config,
        loadBalancers: [
          {
            targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef',
            containerName: 'app',
            containerPort: 8080,
            advancedConfiguration: {
              alternateTargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-green/fedcba9876543210',
              productionListenerRule: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3',
              testListenerRule: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/4/5',
              roleArn: 'arn:aws:iam::123456789012:role/ecs-blue-green',
            },
          },
        ],
      });
    }

    /** Follows a service deployment to a final status, recording each look. */
    async function follow(arn: string, onLook?: (sd: ServiceDeployment) => Promise<void> | void) {
      const looks: ServiceDeployment[] = [];
      const final = await until(
        'a final status',
        async () => {
          const sd = await serviceDeployment(arn);
          looks.push(sd);
          await onLook?.(sd);
          return ['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED'].includes(sd.status!) ? sd : undefined;
        },
        20_000,
        5,
      );
      const stages = looks.map((l) => l.lifecycleStage).filter((s, i, all): s is NonNullable<typeof s> => !!s && s !== all[i - 1]);
      const production = looks.map((l) => l.targetServiceRevision?.requestedProductionTrafficWeight ?? 0).filter((w, i, all) => w !== all[i - 1]);
      return { final, looks, stages, production };
    }

    it('blue/green: scale up beside the old revision, test traffic, production traffic, bake, clean up', async () => {
      seedStrategy({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 10 });
      const { serviceDeploymentArn, taskDefinitionArn } = await deploy('v2');
      let oldServedDuringBake = false;
      const run = await follow(serviceDeploymentArn, async (sd) => {
        if (sd.lifecycleStage === 'BAKE_TIME') {
          const svc = await describeService();
          oldServedDuringBake ||= svc.deployments!.length === 2 && svc.runningCount === 4;
        }
      });
      assert.equal(run.final.status, 'SUCCESSFUL');
      assert.equal(run.final.deploymentConfiguration?.strategy, 'BLUE_GREEN');
      assert.equal(run.final.deploymentConfiguration?.bakeTimeInMinutes, 10);
      const order = [
        'RECONCILE_SERVICE',
        'PRE_SCALE_UP',
        'SCALE_UP',
        'POST_SCALE_UP',
        'TEST_TRAFFIC_SHIFT',
        'POST_TEST_TRAFFIC_SHIFT',
        'PRODUCTION_TRAFFIC_SHIFT',
        'POST_PRODUCTION_TRAFFIC_SHIFT',
        'BAKE_TIME',
        'CLEAN_UP',
      ];
      assert.deepEqual(
        run.stages,
        order.filter((s) => run.stages.includes(s as never)),
        'stages in ECS order',
      );
      for (const s of ['SCALE_UP', 'BAKE_TIME', 'CLEAN_UP']) assert.ok(run.stages.includes(s as never), `${s} seen: ${run.stages.join(',')}`);
      // Bake time: 10 configured minutes of 20 ms each.
      const bakeStart = run.looks.find((l) => l.lifecycleStage === 'BAKE_TIME')!.updatedAt!.getTime();
      assert.ok(run.final.finishedAt!.getTime() - bakeStart >= 180, 'baked for its bake time');
      assert.ok(oldServedDuringBake, 'the old revision keeps its tasks through the bake time');
      assert.deepEqual(run.production, [0, 100], 'blue/green moves production traffic at once');
      assert.equal(run.final.targetServiceRevision?.requestedTestTrafficWeight, 100);
      assert.equal(run.final.sourceServiceRevisions?.[0].requestedProductionTrafficWeight, 0);
      const svc = await until('the old revision to drain', async () => {
        const s = await describeService();
        return s.deployments!.length === 1 ? s : undefined;
      });
      assert.equal(svc.taskDefinition, taskDefinitionArn);
      assert.equal(svc.deploymentConfiguration?.strategy, 'BLUE_GREEN');
    });

    it('linear shifts production traffic in steps, canary in two', async () => {
      seedStrategy({ strategy: 'LINEAR', linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 4 } });
      const linear = await follow((await deploy('v2')).serviceDeploymentArn);
      assert.equal(linear.final.status, 'SUCCESSFUL');
      assert.deepEqual(linear.production, [0, 25, 50, 75, 100]);
      assert.deepEqual(linear.final.deploymentConfiguration?.linearConfiguration, { stepPercent: 25, stepBakeTimeInMinutes: 4 });

      await ecs.send(
        new UpdateServiceCommand({
          cluster: CLUSTER,
          service: SERVICE,
          deploymentConfiguration: { strategy: 'CANARY', canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 5 } },
        }),
      );
      const canary = await follow((await deploy('v3')).serviceDeploymentArn);
      assert.equal(canary.final.status, 'SUCCESSFUL');
      assert.deepEqual(canary.production, [0, 10, 100]);
      assert.ok((await describeService()).events!.some((e) => /shifted 10% of production traffic/.test(e.message!)));
    });

    it('a PAUSE hook holds the new revision on test traffic until ContinueServiceDeployment', async () => {
      seedStrategy({
        strategy: 'BLUE_GREEN',
        lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'], timeoutConfiguration: { timeoutInMinutes: 600, action: 'ROLLBACK' } }],
      });
      const paused = async (arn: string) =>
        until('the hook to await action', async () => {
          const sd = await serviceDeployment(arn);
          const hook = sd.lifecycleHookDetails?.find((h) => h.status === 'AWAITING_ACTION');
          return hook && sd.lifecycleStage === 'POST_TEST_TRAFFIC_SHIFT' ? { sd, hook } : undefined;
        });

      const v2 = await deploy('v2');
      const first = await paused(v2.serviceDeploymentArn);
      assert.equal(first.hook.targetType, 'PAUSE');
      assert.equal(first.hook.timeoutAction, 'ROLLBACK');
      assert.ok(first.hook.expiresAt! > new Date());
      assert.equal(first.sd.targetServiceRevision?.requestedTestTrafficWeight, 100);
      assert.equal(first.sd.targetServiceRevision?.requestedProductionTrafficWeight, 0);
      await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: v2.serviceDeploymentArn, hookId: first.hook.hookId, action: 'CONTINUE' }));
      assert.equal((await follow(v2.serviceDeploymentArn)).final.status, 'SUCCESSFUL');
      const again = await rejection(ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: v2.serviceDeploymentArn, hookId: first.hook.hookId })));
      assert.equal(again.name, 'InvalidParameterException');

      // Answered with ROLLBACK: production traffic never moved to v3.
      const v3 = await deploy('v3');
      const second = await paused(v3.serviceDeploymentArn);
      await ecs.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn: v3.serviceDeploymentArn, hookId: second.hook.hookId, action: 'ROLLBACK' }));
      const rolledBack = await follow(v3.serviceDeploymentArn);
      assert.equal(rolledBack.final.status, 'ROLLBACK_SUCCESSFUL');
      assert.deepEqual(rolledBack.production, [0]);
      assert.match(rolledBack.final.rollback?.reason ?? '', /answered with ROLLBACK/);
      assert.equal((await describeService()).taskDefinition, v2.taskDefinitionArn);

      // Unanswered: the hook times out and its timeout action (ROLLBACK) applies.
      await ecs.send(
        new UpdateServiceCommand({
          cluster: CLUSTER,
          service: SERVICE,
          deploymentConfiguration: {
            lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'], timeoutConfiguration: { timeoutInMinutes: 5, action: 'ROLLBACK' } }],
          },
        }),
      );
      const timedOut = await follow((await deploy('v4')).serviceDeploymentArn);
      assert.equal(timedOut.final.status, 'ROLLBACK_SUCCESSFUL');
      assert.match(timedOut.final.statusReason ?? '', /lifecycle hook PAUSE \S+ timed out at POST_TEST_TRAFFIC_SHIFT/);
      assert.equal(timedOut.final.lifecycleHookDetails?.[0].status, 'TIMED_OUT');
    });

    it('a failing Lambda hook and an alarm in ALARM roll back, naming the hook and the alarm', async () => {
      seedStrategy({
        strategy: 'BLUE_GREEN',
        lifecycleHooks: [{ targetType: 'AWS_LAMBDA', hookTargetArn: LAMBDA, roleArn: 'arn:aws:iam::123456789012:role/hooks', lifecycleStages: ['POST_SCALE_UP'] }],
      });
      sandbox.failHook(/smoke-test/);
      const hooked = await follow((await deploy('v2')).serviceDeploymentArn);
      assert.equal(hooked.final.status, 'ROLLBACK_SUCCESSFUL');
      assert.equal(hooked.final.statusReason, `Service deployment rolled back because lifecycle hook ${LAMBDA} failed at POST_SCALE_UP.`);
      assert.deepEqual(
        hooked.final.lifecycleHookDetails?.map((h) => [h.targetArn, h.status]),
        [[LAMBDA, 'FAILED']],
      );
      sandbox.clearFailures();

      await ecs.send(
        new UpdateServiceCommand({
          cluster: CLUSTER,
          service: SERVICE,
          deploymentConfiguration: { bakeTimeInMinutes: 1000, lifecycleHooks: [], alarms: { alarmNames: ['web-5xx', 'web-latency'], enable: true, rollback: true } },
        }),
      );
      const v3 = await deploy('v3');
      await until('the bake time', async () => (await serviceDeployment(v3.serviceDeploymentArn)).lifecycleStage === 'BAKE_TIME');
      sandbox.setAlarm('web-5xx', true);
      const alarmed = await follow(v3.serviceDeploymentArn);
      assert.equal(alarmed.final.status, 'ROLLBACK_SUCCESSFUL');
      assert.deepEqual(alarmed.final.alarms, { status: 'TRIGGERED', alarmNames: ['web-5xx', 'web-latency'], triggeredAlarmNames: ['web-5xx'] });
      assert.match(alarmed.final.rollback?.reason ?? '', /CloudWatch alarms/);
      assert.notEqual((await describeService()).taskDefinition, v3.taskDefinitionArn);
    });

    it('StopServiceDeployment ABORT stops where it is; hooks need a blue/green kind of strategy', async () => {
      seedStrategy({ strategy: 'BLUE_GREEN', lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['PRE_SCALE_UP'] }] });
      const v2 = await deploy('v2');
      await until('the pause', async () => (await serviceDeployment(v2.serviceDeploymentArn)).lifecycleHookDetails?.length);
      await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: v2.serviceDeploymentArn, stopType: 'ABORT' }));
      const aborted = await follow(v2.serviceDeploymentArn);
      assert.equal(aborted.final.status, 'STOPPED');
      assert.match(aborted.final.statusReason ?? '', /StopServiceDeployment/);

      const refused = await rejection(
        ecs.send(
          new UpdateServiceCommand({
            cluster: CLUSTER,
            service: SERVICE,
            deploymentConfiguration: { strategy: 'ROLLING', lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['PRE_SCALE_UP'] }] },
          }),
        ),
      );
      assert.equal(refused.name, 'InvalidParameterException');
      assert.match(refused.message, /lifecycleHooks are supported only with/);
      const badStage = await rejection(
        ecs.send(
          new UpdateServiceCommand({
            cluster: CLUSTER,
            service: SERVICE,
            deploymentConfiguration: { lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['BAKE_TIME' as never] }] },
          }),
        ),
      );
      assert.match(badStage.message, /invalid lifecycle stage BAKE_TIME/);
    });
  });

  it('a task that was healthy can turn unhealthy mid-rollout and trip the circuit breaker', async () => {
    // One task at a time (maximumPercent 150), so the first healthy task fails mid-rollout.
    const seeded = sandbox.seedService({
      cluster: CLUSTER,
      service: SERVICE,
      desiredCount: 2,
      taskDefinition: taskDefinition('web', 'v1'),
      circuitBreaker: { enable: true, rollback: true },
      maximumPercent: 150,
    });
    sandbox.failImage('app:flaky', { afterHealthyMs: 60 });
    const { taskDefinitionArn, serviceDeploymentArn } = await deploy('flaky');
    let healthy = false;
    const done = await until(
      'the rollback',
      async () => {
        const running = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: SERVICE }));
        const tasks = running.taskArns!.length ? (await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: running.taskArns! }))).tasks! : [];
        healthy ||= tasks.some((t) => t.taskDefinitionArn === taskDefinitionArn && t.healthStatus === 'HEALTHY');
        const sd = await serviceDeployment(serviceDeploymentArn);
        return ['ROLLBACK_SUCCESSFUL', 'SUCCESSFUL', 'ROLLBACK_FAILED'].includes(sd.status!) ? sd : undefined;
      },
      10_000,
      5,
    );
    assert.ok(healthy, 'a task of the new revision was healthy first');
    assert.equal(done.status, 'ROLLBACK_SUCCESSFUL');
    assert.equal((await describeService()).taskDefinition, seeded.taskDefinitionArn);
  });

  it('seeds the Openverse services and templates', async () => {
    const tag = 'c'.repeat(40);
    const seeded = await seedOpenverse(sandbox, { initialTag: tag });
    assert.deepEqual(
      seeded.services.map((s) => `${s.cluster}/${s.service}`),
      ['staging-default/staging-api', 'staging-default/staging-nuxt', 'production-default/production-api', 'production-default/production-nuxt'],
    );
    assert.equal(sandbox.calls.length, 0, 'seeding is not recorded');
    const template = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'staging-api-template' }));
    assert.ok(template.taskDefinition?.containerDefinitions?.some((c) => c.name === 'django'));
    const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'staging-api' }));
    const images = Object.fromEntries(td.taskDefinition!.containerDefinitions!.map((c) => [c.name, c.image]));
    assert.deepEqual(images, { nginx: `ghcr.io/wordpress/openverse-api_nginx:${tag}`, django: `ghcr.io/wordpress/openverse-api:${tag}` });
    const nuxt = sandbox.taskDefinitions('production-nuxt')[0];
    assert.deepEqual(nuxt.images, { nuxt: `ghcr.io/wordpress/openverse-frontend:${tag}` });
    const out = await ecs.send(new DescribeServicesCommand({ cluster: 'production-default', services: ['production-api', 'production-nuxt'] }));
    for (const svc of out.services!) {
      assert.deepEqual(svc.deploymentConfiguration?.deploymentCircuitBreaker, { enable: true, rollback: true });
      assert.equal(svc.runningCount, svc.desiredCount);
      assert.ok(svc.desiredCount! > 0);
    }
  });
});
