/**
 * ECS API operations: request checks and response shapes over the task definition registry
 * and the service simulator.
 */
import type { LoadBalancer, NetworkConfiguration, Tag } from '@aws-sdk/client-ecs';
import { EcsError, arns, checkTags, clone, decodeToken, encodeToken, isObject, lastSegment, mergeTags, pageSize } from './common';
import { applyDeploymentConfiguration, defaultSettings } from './config';
import type { ClusterState, EcsSimulator } from './simulator';
import type { TaskDefinitionRecord, TaskDefinitionRegistry } from './task-definitions';
import * as views from './views';

type Input = Record<string, unknown>;
export type Operation = (input: Input) => unknown;

/** Operations that change state; calls to them are listed by `mutations()` when applied. */
export const MUTATING_OPERATIONS: ReadonlySet<string> = new Set([
  'RegisterTaskDefinition',
  'DeregisterTaskDefinition',
  'DeleteTaskDefinitions',
  'CreateService',
  'UpdateService',
  'DeleteService',
  'StopServiceDeployment',
  'ContinueServiceDeployment',
  'TagResource',
  'UntagResource',
  'CreateCluster',
  'DeleteCluster',
  'RunTask',
  'StartTask',
  'StopTask',
  'PutAccountSetting',
]);

export function isMutating(op: string): boolean {
  return MUTATING_OPERATIONS.has(op) || /^(Create|Delete|Update|Put|Register|Deregister|Submit)/.test(op);
}

/** Builds the operation table. */
export function operations(registry: TaskDefinitionRegistry, sim: EcsSimulator): Record<string, Operation> {
  const includes = (input: Input, field: string) => Array.isArray(input.include) && input.include.includes(field);

  /** Tags live on task definition revisions, services and clusters. */
  const taggable = (resourceArn: unknown): { tags: Tag[] } => {
    if (typeof resourceArn !== 'string' || !resourceArn.startsWith('arn:')) {
      throw new EcsError('InvalidParameterException', 'resourceArn must be a valid ARN.');
    }
    const found: { tags: Tag[] } | undefined = resourceArn.includes(':task-definition/')
      ? /:\d+$/.test(resourceArn)
        ? registry.find(resourceArn)
        : undefined
      : resourceArn.includes(':service/')
        ? sim.findServiceByArn(resourceArn)
        : resourceArn.includes(':cluster/')
          ? sim.clusters.get(lastSegment(resourceArn))
          : undefined;
    if (!found) throw new EcsError('InvalidParameterException', 'The specified resource could not be found.');
    return found;
  };

  return {
    RegisterTaskDefinition(input) {
      const record = registry.register(input);
      return { taskDefinition: registry.render(record), ...(record.tags.length ? { tags: clone(record.tags) } : {}) };
    },

    DescribeTaskDefinition(input) {
      const record = registry.get(input.taskDefinition);
      return {
        taskDefinition: registry.render(record),
        ...(includes(input, 'TAGS') ? { tags: clone(record.tags) } : {}),
      };
    },

    ListTaskDefinitions(input) {
      return registry.list(input);
    },

    DeregisterTaskDefinition(input) {
      return { taskDefinition: registry.render(registry.deregister(input.taskDefinition)) };
    },

    ListTagsForResource(input) {
      return { tags: clone(taggable(input.resourceArn).tags) };
    },

    TagResource(input) {
      const resource = taggable(input.resourceArn);
      const tags = checkTags(input.tags);
      if (!tags.length) throw new EcsError('InvalidParameterException', 'tags can not be empty.');
      resource.tags = mergeTags(resource.tags, tags);
      return {};
    },

    UntagResource(input) {
      const resource = taggable(input.resourceArn);
      if (!Array.isArray(input.tagKeys) || !input.tagKeys.length) {
        throw new EcsError('InvalidParameterException', 'tagKeys can not be empty.');
      }
      const drop = new Set(input.tagKeys as string[]);
      resource.tags = resource.tags.filter((t) => !drop.has(t.key ?? ''));
      return {};
    },

    DescribeClusters(input) {
      const names = Array.isArray(input.clusters) && input.clusters.length ? (input.clusters as string[]) : ['default'];
      const clusters: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of names) {
        const cluster = sim.clusters.get(lastSegment(String(ref)));
        if (!cluster) {
          failures.push({ arn: String(ref).startsWith('arn:') ? ref : arns.cluster(String(ref)), reason: 'MISSING' });
          continue;
        }
        const tasks = [...cluster.tasks.values()].filter((t) => t.desiredStatus === 'RUNNING');
        clusters.push({
          clusterArn: cluster.arn,
          clusterName: cluster.name,
          status: 'ACTIVE',
          registeredContainerInstancesCount: 0,
          runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
          pendingTasksCount: tasks.filter((t) => t.lastStatus !== 'RUNNING').length,
          activeServicesCount: cluster.services.size,
          statistics: [],
          tags: includes(input, 'TAGS') ? clone(cluster.tags) : [],
          settings: [{ name: 'containerInsights', value: 'disabled' }],
          capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
          defaultCapacityProviderStrategy: [],
        });
      }
      return { clusters, failures };
    },

    ListClusters(input) {
      return paginateByName(
        [...sim.clusters.values()].map((c) => [c.name, c.arn]),
        input,
        'clusterArns',
      );
    },

    ListServices(input) {
      const cluster = sim.cluster(input.cluster);
      return paginateByName(
        [...cluster.services.values()].map((s) => [s.name, s.arn]),
        input,
        'serviceArns',
      );
    },

    CreateService(input) {
      const cluster = sim.cluster(input.cluster);
      if (typeof input.serviceName !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(input.serviceName)) {
        throw new EcsError('InvalidParameterException', 'serviceName must be up to 255 letters, numbers, hyphens and underscores.');
      }
      const td = activeTaskDefinition(registry, input.taskDefinition);
      const desiredCount = count(input.desiredCount ?? 0);
      const settings = applyDeploymentConfiguration(defaultSettings(), input.deploymentConfiguration);
      const svc = sim.createService(
        cluster,
        {
          name: input.serviceName,
          desiredCount,
          td,
          settings,
          loadBalancers: Array.isArray(input.loadBalancers) ? (input.loadBalancers as LoadBalancer[]) : [],
          ...(isObject(input.networkConfiguration) ? { networkConfiguration: input.networkConfiguration as NetworkConfiguration } : {}),
          tags: checkTags(input.tags),
        },
        false,
      );
      return { service: views.renderService(svc, false) };
    },

    DescribeServices(input) {
      const cluster = sim.cluster(input.cluster);
      if (!Array.isArray(input.services) || input.services.length === 0) {
        throw new EcsError('InvalidParameterException', 'services can not be empty.');
      }
      if (input.services.length > 10) throw new EcsError('InvalidParameterException', 'At most 10 services can be described.');
      const services: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of input.services as unknown[]) {
        const name = lastSegment(String(ref));
        const svc = cluster.services.get(name);
        if (svc) services.push(views.renderService(svc, includes(input, 'TAGS')));
        else failures.push({ arn: arns.service(cluster.name, name), reason: 'MISSING' });
      }
      return { services, failures };
    },

    UpdateService(input) {
      const svc = sim.service(input.cluster, input.service);
      const settings = applyDeploymentConfiguration(svc.settings, input.deploymentConfiguration);
      sim.updateService(svc, {
        ...(input.desiredCount !== undefined ? { desiredCount: count(input.desiredCount) } : {}),
        ...(input.taskDefinition !== undefined ? { td: activeTaskDefinition(registry, input.taskDefinition) } : {}),
        forceNewDeployment: input.forceNewDeployment === true,
        settings,
      });
      return { service: views.renderService(svc, false) };
    },

    ListServiceDeployments(input) {
      const svc = sim.service(input.cluster, input.service);
      return views.listServiceDeployments(svc, input);
    },

    DescribeServiceDeployments(input) {
      const refs = arnList(input.serviceDeploymentArns, 'serviceDeploymentArns', 20);
      const serviceDeployments: unknown[] = [];
      const failures: unknown[] = [];
      for (const arn of refs) {
        const sd = sim.serviceDeployment(arn);
        if (sd) serviceDeployments.push(views.renderServiceDeployment(sd, sim.threshold));
        else failures.push({ arn, reason: 'MISSING', detail: 'Service deployment not found.' });
      }
      return { serviceDeployments, failures };
    },

    DescribeServiceRevisions(input) {
      const refs = arnList(input.serviceRevisionArns, 'serviceRevisionArns', 20);
      const serviceRevisions: unknown[] = [];
      const failures: unknown[] = [];
      for (const arn of refs) {
        const revision = sim.serviceRevision(arn);
        if (revision) serviceRevisions.push(views.renderServiceRevision(revision));
        else failures.push({ arn, reason: 'MISSING', detail: 'Service revision not found.' });
      }
      return { serviceRevisions, failures };
    },

    StopServiceDeployment(input) {
      const arn = String(input.serviceDeploymentArn ?? '');
      const sd = sim.serviceDeployment(arn);
      if (!sd) throw new EcsError('ServiceDeploymentNotFoundException', 'Service deployment not found.');
      const stopType = input.stopType ?? 'ROLLBACK';
      if (stopType !== 'ROLLBACK' && stopType !== 'ABORT') {
        throw new EcsError('InvalidParameterException', `Invalid stopType: ${String(stopType)}.`);
      }
      sim.stopServiceDeployment(sd, stopType);
      return { serviceDeploymentArn: sd.arn };
    },

    ContinueServiceDeployment(input) {
      const arn = String(input.serviceDeploymentArn ?? '');
      const sd = sim.serviceDeployment(arn);
      if (!sd) throw new EcsError('ServiceDeploymentNotFoundException', 'Service deployment not found.');
      if (typeof input.hookId !== 'string' || !input.hookId) throw new EcsError('InvalidParameterException', 'hookId can not be blank.');
      const action = input.action ?? 'CONTINUE';
      if (action !== 'CONTINUE' && action !== 'ROLLBACK') {
        throw new EcsError('InvalidParameterException', `Invalid action: ${String(action)}. Valid values: CONTINUE, ROLLBACK.`);
      }
      sim.continueServiceDeployment(sd, input.hookId, action);
      return { serviceDeploymentArn: sd.arn };
    },

    ListTasks(input) {
      return views.listTasks(sim.cluster(input.cluster), input);
    },

    DescribeTasks(input) {
      const cluster: ClusterState = sim.cluster(input.cluster);
      const refs = arnList(input.tasks, 'tasks', 100);
      const tasks: unknown[] = [];
      const failures: unknown[] = [];
      for (const ref of refs) {
        const task = cluster.tasks.get(lastSegment(ref));
        if (task) tasks.push(views.renderTask(task, includes(input, 'TAGS')));
        else failures.push({ arn: ref.startsWith('arn:') ? ref : arns.task(cluster.name, ref), reason: 'MISSING' });
      }
      return { tasks, failures };
    },
  };
}

function activeTaskDefinition(registry: TaskDefinitionRegistry, ref: unknown): TaskDefinitionRecord {
  const td = registry.get(ref);
  if (td.status !== 'ACTIVE') throw new EcsError('ClientException', 'TaskDefinition is inactive');
  return td;
}

function count(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new EcsError('InvalidParameterException', 'desiredCount must be a non-negative integer.');
  }
  return value;
}

function arnList(value: unknown, field: string, max: number): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new EcsError('InvalidParameterException', `${field} can not be empty.`);
  if (value.length > max) throw new EcsError('InvalidParameterException', `At most ${max} ${field} are allowed.`);
  return value.map(String);
}

function paginateByName<K extends string>(rows: [string, string][], input: Input, key: K): { [P in K]: string[] } & { nextToken?: string } {
  const size = pageSize(input.maxResults, 10);
  const after = decodeToken(input.nextToken as string | undefined, (v): v is string => typeof v === 'string');
  const sorted = rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).filter((r) => after === undefined || r[0] > after);
  const page = sorted.slice(0, size);
  const out = { [key]: page.map((r) => r[1]) } as { [P in K]: string[] } & { nextToken?: string };
  if (sorted.length > size) out.nextToken = encodeToken(page[page.length - 1][0]);
  return out;
}
