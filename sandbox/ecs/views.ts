/**
 * Response shapes of the simulated ECS state (DescribeServices, DescribeServiceDeployments,
 * DescribeServiceRevisions, DescribeTasks) and the paginated listings.
 */
import type { Container, Deployment, Service, ServiceDeployment, ServiceDeploymentBrief, ServiceRevision, ServiceRevisionSummary, Task } from '@aws-sdk/client-ecs';
import { ACCOUNT_ID, EcsError, type Wire, arns, clone, decodeToken, encodeToken, hex, imageDigest, lastSegment, pageSize, seconds, uuid, wireTimeToMs } from './common';
import {
  type ClusterState,
  type ContainerState,
  type ServiceDeploymentState,
  type ServiceRevisionState,
  type ServiceState,
  type TaskSetState,
  type TaskState,
  UNFINISHED,
  deploymentConfiguration,
  live,
  pending,
  requested,
  running,
  taskHealth,
} from './simulator';

export function renderService(svc: ServiceState, includeTags: boolean): Wire<Service> {
  const sets = svc.sets;
  return {
    serviceArn: svc.arn,
    serviceName: svc.name,
    clusterArn: svc.cluster.arn,
    loadBalancers: clone(svc.loadBalancers),
    serviceRegistries: [],
    status: 'ACTIVE',
    desiredCount: svc.desiredCount,
    runningCount: sets.reduce((n, s) => n + running(s), 0),
    pendingCount: sets.reduce((n, s) => n + pending(s), 0),
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    platformFamily: 'Linux',
    ...(svc.primary ? { taskDefinition: svc.primary.revision.td.arn } : {}),
    deploymentConfiguration: deploymentConfiguration(svc),
    deployments: sets.map((s) => renderTaskSet(s)),
    roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    events: svc.events.map((e) => ({ id: e.id, createdAt: seconds(e.createdAt), message: e.message })),
    createdAt: seconds(svc.createdAt),
    ...(svc.current ? { currentServiceDeployment: svc.current.arn } : {}),
    currentServiceRevisions: sets.map((s) => ({
      arn: s.revision.arn,
      requestedTaskCount: requested(s),
      runningTaskCount: running(s),
      pendingTaskCount: pending(s),
    })),
    placementConstraints: [],
    placementStrategy: [],
    networkConfiguration: clone(svc.networkConfiguration),
    healthCheckGracePeriodSeconds: 0,
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    createdBy: `arn:aws:iam::${ACCOUNT_ID}:role/ecs-sandbox`,
    enableECSManagedTags: false,
    propagateTags: 'NONE',
    enableExecuteCommand: false,
    availabilityZoneRebalancing: 'ENABLED',
    ...(includeTags ? { tags: clone(svc.tags) } : {}),
  };
}

function renderTaskSet(set: TaskSetState): Wire<Deployment> {
  return {
    id: set.id,
    status: set.status,
    taskDefinition: set.revision.td.arn,
    desiredCount: requested(set),
    pendingCount: pending(set),
    runningCount: running(set),
    failedTasks: set.failedTasks,
    createdAt: seconds(set.createdAt),
    updatedAt: seconds(set.updatedAt),
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    networkConfiguration: clone(set.revision.networkConfiguration),
    rolloutState: set.rolloutState,
    rolloutStateReason: set.rolloutStateReason,
  };
}

export function renderServiceDeployment(sd: ServiceDeploymentState, threshold: number): Wire<ServiceDeployment> {
  const svc = sd.service;
  const unfinished = UNFINISHED.includes(sd.status);
  const scaling = sd.status === 'ROLLBACK_IN_PROGRESS' && sd.rollbackSet ? sd.rollbackSet : sd.targetSet;
  const scalingUp = live(scaling).length < svc.desiredCount || live(scaling).some((t) => !t.ready);
  return {
    serviceDeploymentArn: sd.arn,
    serviceArn: svc.arn,
    clusterArn: svc.cluster.arn,
    createdAt: seconds(sd.createdAt),
    ...(sd.startedAt !== undefined ? { startedAt: seconds(sd.startedAt) } : {}),
    ...(sd.finishedAt !== undefined ? { finishedAt: seconds(sd.finishedAt) } : {}),
    ...(sd.stoppedAt !== undefined ? { stoppedAt: seconds(sd.stoppedAt) } : {}),
    updatedAt: seconds(sd.updatedAt),
    sourceServiceRevisions: sd.sources.map((r) => revisionSummary(r, sd.stage && 100 - sd.production, sd.stage && 100 - sd.test)),
    targetServiceRevision: revisionSummary(sd.target, sd.stage && sd.production, sd.stage && sd.test),
    status: sd.status,
    ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
    ...(unfinished ? { lifecycleStage: sd.status === 'IN_PROGRESS' && sd.stage ? sd.stage : scalingUp ? 'SCALE_UP' : 'CLEAN_UP' } : {}),
    ...(sd.hooks.length
      ? {
          lifecycleHookDetails: sd.hooks.map((h) => ({
            hookId: h.hookId,
            targetType: h.hook.targetType ?? 'AWS_LAMBDA',
            ...(h.hook.hookTargetArn ? { targetArn: h.hook.hookTargetArn } : {}),
            status: h.status,
            ...(h.expiresAt !== undefined ? { expiresAt: seconds(h.expiresAt) } : {}),
            timeoutAction: h.timeoutAction,
          })),
        }
      : {}),
    deploymentConfiguration: clone(sd.configuration),
    ...(sd.rollback
      ? {
          rollback: {
            reason: sd.rollback.reason,
            startedAt: seconds(sd.rollback.startedAt),
            serviceRevisionArn: sd.rollback.serviceRevisionArn,
          },
        }
      : {}),
    deploymentCircuitBreaker: {
      status: sd.breakerStatus,
      failureCount: sd.targetSet.failedTasks,
      threshold,
    },
    alarms: {
      status: sd.alarmStatus,
      ...(sd.settings.alarms.enable ? { alarmNames: [...sd.settings.alarms.alarmNames] } : {}),
      ...(sd.triggeredAlarms.length ? { triggeredAlarmNames: [...sd.triggeredAlarms] } : {}),
    },
  };
}

export function renderServiceDeploymentBrief(sd: ServiceDeploymentState): Wire<ServiceDeploymentBrief> {
  return {
    serviceDeploymentArn: sd.arn,
    serviceArn: sd.service.arn,
    clusterArn: sd.service.cluster.arn,
    ...(sd.startedAt !== undefined ? { startedAt: seconds(sd.startedAt) } : {}),
    createdAt: seconds(sd.createdAt),
    ...(sd.finishedAt !== undefined ? { finishedAt: seconds(sd.finishedAt) } : {}),
    targetServiceRevisionArn: sd.target.arn,
    status: sd.status,
    ...(sd.statusReason ? { statusReason: sd.statusReason } : {}),
  };
}

/** A revision's counts; with traffic weights for BLUE_GREEN, LINEAR and CANARY deployments. */
function revisionSummary(revision: ServiceRevisionState, production?: number, test?: number): Wire<ServiceRevisionSummary> {
  const set = revision.service.sets.find((s) => s.revision === revision);
  return {
    arn: revision.arn,
    requestedTaskCount: set ? requested(set) : 0,
    runningTaskCount: set ? running(set) : 0,
    pendingTaskCount: set ? pending(set) : 0,
    ...(production !== undefined ? { requestedProductionTrafficWeight: production } : {}),
    ...(test !== undefined ? { requestedTestTrafficWeight: test } : {}),
  };
}

export function renderServiceRevision(revision: ServiceRevisionState): Wire<ServiceRevision> {
  return {
    serviceRevisionArn: revision.arn,
    serviceArn: revision.service.arn,
    clusterArn: revision.service.cluster.arn,
    taskDefinition: revision.td.arn,
    launchType: 'FARGATE',
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    loadBalancers: clone(revision.loadBalancers),
    serviceRegistries: [],
    networkConfiguration: clone(revision.networkConfiguration),
    containerImages: (revision.td.body.containerDefinitions ?? []).map((c) => ({
      containerName: c.name,
      imageDigest: imageDigest(c.image ?? ''),
      image: c.image,
    })),
    guardDutyEnabled: false,
    createdAt: seconds(revision.createdAt),
  };
}

export function renderTask(task: TaskState, includeTags: boolean): Wire<Task> {
  const cluster = task.service.cluster;
  const connected = task.startedAt !== undefined;
  return {
    attachments: [],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: 'us-east-1a',
    clusterArn: cluster.arn,
    ...(connected ? { connectivity: 'CONNECTED', connectivityAt: seconds(task.startedAt) } : {}),
    containers: task.containers.map((c) => renderContainer(task, c)),
    ...(task.td.body.cpu ? { cpu: task.td.body.cpu } : {}),
    ...(task.td.body.memory ? { memory: task.td.body.memory } : {}),
    createdAt: seconds(task.createdAt),
    desiredStatus: task.desiredStatus,
    enableExecuteCommand: false,
    ...(task.stoppedAt !== undefined ? { executionStoppedAt: seconds(task.stoppedAt) } : {}),
    group: `service:${task.service.name}`,
    healthStatus: taskHealth(task),
    lastStatus: task.lastStatus,
    launchType: 'FARGATE',
    overrides: { containerOverrides: task.containers.map((c) => ({ name: c.name })), inferenceAcceleratorOverrides: [] },
    platformVersion: '1.4.0',
    platformFamily: 'Linux',
    ...(task.pullStartedAt !== undefined ? { pullStartedAt: seconds(task.pullStartedAt) } : {}),
    ...(task.pullStoppedAt !== undefined ? { pullStoppedAt: seconds(task.pullStoppedAt) } : {}),
    ...(task.startedAt !== undefined ? { startedAt: seconds(task.startedAt) } : {}),
    startedBy: task.set.id,
    ...(task.stopCode ? { stopCode: task.stopCode } : {}),
    ...(task.stoppedAt !== undefined ? { stoppedAt: seconds(task.stoppedAt) } : {}),
    ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
    ...(task.stoppingAt !== undefined ? { stoppingAt: seconds(task.stoppingAt) } : {}),
    ...(includeTags ? { tags: [] } : {}),
    taskArn: task.arn,
    taskDefinitionArn: task.td.arn,
    version: task.version,
    ephemeralStorage: { sizeInGiB: 20 },
    fargateEphemeralStorage: { sizeInGiB: 20 },
  };
}

function renderContainer(task: TaskState, c: ContainerState): Wire<Container> {
  const started = task.startedAt !== undefined;
  return {
    containerArn: arns.container(task.service.cluster.name, task.id, c.id),
    taskArn: task.arn,
    name: c.name,
    image: c.image,
    ...(started ? { imageDigest: imageDigest(c.image), runtimeId: `${task.id}-${hex(5)}` } : {}),
    lastStatus: c.lastStatus,
    ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
    ...(c.reason ? { reason: c.reason } : {}),
    networkBindings: [],
    networkInterfaces: [{ attachmentId: uuid(), privateIpv4Address: task.privateIp }],
    healthStatus: c.health,
    cpu: String(c.cpu),
    ...(c.memory !== undefined ? { memory: String(c.memory) } : {}),
  };
}

export function listServiceDeployments(
  svc: ServiceState,
  input: { status?: unknown; createdAt?: unknown; maxResults?: unknown; nextToken?: unknown },
): { serviceDeployments: Wire<ServiceDeploymentBrief>[]; nextToken?: string } {
  const statuses = Array.isArray(input.status) && input.status.length ? (input.status as string[]) : undefined;
  const range = (input.createdAt ?? {}) as { before?: unknown; after?: unknown };
  const before = wireTimeToMs(range.before);
  const after = wireTimeToMs(range.after);
  const size = pageSize(input.maxResults, 20);
  const cursor = decodeToken(input.nextToken as string | undefined, (v): v is number => typeof v === 'number');
  const rows = [...svc.deployments]
    .reverse()
    .filter((sd) => !statuses || statuses.includes(sd.status))
    .filter((sd) => before === undefined || sd.createdAt < before)
    .filter((sd) => after === undefined || sd.createdAt > after)
    .filter((sd) => cursor === undefined || sd.seq < cursor);
  const page = rows.slice(0, size);
  return {
    serviceDeployments: page.map((sd) => renderServiceDeploymentBrief(sd)),
    ...(rows.length > size ? { nextToken: encodeToken(page[page.length - 1].seq) } : {}),
  };
}

export function listTasks(
  cluster: ClusterState,
  input: { serviceName?: unknown; family?: unknown; startedBy?: unknown; desiredStatus?: unknown; maxResults?: unknown; nextToken?: unknown },
): { taskArns: string[]; nextToken?: string } {
  const desiredStatus = input.desiredStatus ?? 'RUNNING';
  if (desiredStatus !== 'RUNNING' && desiredStatus !== 'PENDING' && desiredStatus !== 'STOPPED') {
    throw new EcsError('InvalidParameterException', `Invalid desiredStatus: ${String(desiredStatus)}.`);
  }
  if (input.serviceName !== undefined && !cluster.services.has(lastSegment(String(input.serviceName)))) {
    throw new EcsError('ServiceNotFoundException', 'Service not found.');
  }
  const size = pageSize(input.maxResults, 100);
  const cursor = decodeToken(input.nextToken as string | undefined, (v): v is number => typeof v === 'number');
  const rows = [...cluster.tasks.values()]
    .sort((a, b) => a.seq - b.seq)
    .filter((t) => input.serviceName === undefined || t.service.name === lastSegment(String(input.serviceName)))
    .filter((t) => input.family === undefined || t.td.family === input.family)
    .filter((t) => input.startedBy === undefined || t.set.id === input.startedBy)
    .filter((t) => (desiredStatus === 'PENDING' ? t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING' : t.desiredStatus === desiredStatus))
    .filter((t) => cursor === undefined || t.seq > cursor);
  const page = rows.slice(0, size);
  return {
    taskArns: page.map((t) => t.arn),
    ...(rows.length > size ? { nextToken: encodeToken(page[page.length - 1].seq) } : {}),
  };
}
