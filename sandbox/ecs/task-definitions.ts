/**
 * Task definition registry: families with numbered revisions, tags, ACTIVE/INACTIVE status,
 * and the read-only fields ECS adds on registration.
 */
import type { Attribute, Compatibility, ContainerDefinition, RegisterTaskDefinitionRequest, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { ACCOUNT_ID, EcsError, type Wire, arns, checkTags, clone, decodeToken, encodeToken, isObject, pageSize, seconds } from './common';

/** The fields of RegisterTaskDefinitionRequest that describe the definition (everything but tags). */
const REQUEST_FIELDS = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
  'trustedExecutionConfiguration',
] as const;

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const REGISTERED_BY = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/ecs-sandbox/sandbox`;

/** One registered revision. */
export interface TaskDefinitionRecord {
  family: string;
  revision: number;
  arn: string;
  status: 'ACTIVE' | 'INACTIVE';
  registeredAt: number;
  deregisteredAt?: number;
  tags: Tag[];
  /** The definition as DescribeTaskDefinition answers it (without status/deregisteredAt). */
  body: Wire<TaskDefinition>;
}

/** Input accepted by register(): a RegisterTaskDefinitionRequest, or a described taskDefinition. */
export type TaskDefinitionInput = RegisterTaskDefinitionRequest | Record<string, unknown>;

export class TaskDefinitionRegistry {
  private readonly families = new Map<string, TaskDefinitionRecord[]>();
  private readonly lastRevision = new Map<string, number>();

  /** Validates and registers the next revision of the family. Read-only input fields are ignored. */
  register(input: TaskDefinitionInput, now = Date.now()): TaskDefinitionRecord {
    if (!isObject(input)) throw new EcsError('ClientException', 'Task definition must be an object.');
    const tags = checkTags(input.tags);
    const req: Record<string, unknown> = {};
    for (const field of REQUEST_FIELDS) if (input[field] !== undefined && input[field] !== null) req[field] = clone(input[field]);
    const def = validate(req as unknown as RegisterTaskDefinitionRequest);

    const family = def.family!;
    const revision = (this.lastRevision.get(family) ?? 0) + 1;
    this.lastRevision.set(family, revision);
    const arn = arns.taskDefinition(family, revision);
    const body: Wire<TaskDefinition> = {
      taskDefinitionArn: arn,
      containerDefinitions: def.containerDefinitions!.map((c) => normalizeContainer(c, def.networkMode)),
      family,
      ...(def.taskRoleArn ? { taskRoleArn: def.taskRoleArn } : {}),
      ...(def.executionRoleArn ? { executionRoleArn: def.executionRoleArn } : {}),
      networkMode: def.networkMode,
      revision,
      volumes: def.volumes ?? [],
      status: 'ACTIVE',
      requiresAttributes: requiredAttributes(def),
      placementConstraints: def.placementConstraints ?? [],
      compatibilities: compatibilities(def),
      ...(def.runtimePlatform ? { runtimePlatform: def.runtimePlatform } : {}),
      ...(def.requiresCompatibilities ? { requiresCompatibilities: def.requiresCompatibilities } : {}),
      ...(def.cpu !== undefined ? { cpu: String(def.cpu) } : {}),
      ...(def.memory !== undefined ? { memory: String(def.memory) } : {}),
      ...(def.inferenceAccelerators ? { inferenceAccelerators: def.inferenceAccelerators } : {}),
      ...(def.pidMode ? { pidMode: def.pidMode } : {}),
      ...(def.ipcMode ? { ipcMode: def.ipcMode } : {}),
      ...(def.proxyConfiguration ? { proxyConfiguration: def.proxyConfiguration } : {}),
      registeredAt: seconds(now),
      registeredBy: REGISTERED_BY,
      ...(def.ephemeralStorage ? { ephemeralStorage: def.ephemeralStorage } : {}),
      enableFaultInjection: def.enableFaultInjection ?? false,
      ...(def.trustedExecutionConfiguration ? { trustedExecutionConfiguration: def.trustedExecutionConfiguration } : {}),
    };
    const record: TaskDefinitionRecord = { family, revision, arn, status: 'ACTIVE', registeredAt: now, tags, body };
    const list = this.families.get(family) ?? [];
    list.push(record);
    this.families.set(family, list);
    return record;
  }

  /** Finds a revision by `family` (latest ACTIVE), `family:revision` or ARN. */
  find(ref: string): TaskDefinitionRecord | undefined {
    if (typeof ref !== 'string' || ref.length === 0) return undefined;
    let name = ref;
    if (ref.startsWith('arn:')) {
      const m = /:task-definition\/(.+)$/.exec(ref);
      if (!m) return undefined;
      name = m[1];
    }
    const m = /^([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(name);
    if (!m) return undefined;
    const list = this.families.get(m[1]);
    if (!list) return undefined;
    if (m[2] === undefined) {
      if (ref.startsWith('arn:')) return undefined;
      return [...list].reverse().find((r) => r.status === 'ACTIVE');
    }
    return list.find((r) => r.revision === Number(m[2]));
  }

  /** Like find(), but throws ECS's ClientException when there is no such revision. */
  get(ref: unknown): TaskDefinitionRecord {
    if (typeof ref !== 'string' || ref.length === 0) {
      throw new EcsError('InvalidParameterException', 'taskDefinition can not be blank.');
    }
    const record = this.find(ref);
    if (!record) throw new EcsError('ClientException', 'Unable to describe task definition.');
    return record;
  }

  /** Marks a revision INACTIVE. A revision must be named (`family:revision` or ARN). */
  deregister(ref: unknown, now = Date.now()): TaskDefinitionRecord {
    if (typeof ref !== 'string' || !/:\d+$/.test(ref)) {
      throw new EcsError('ClientException', 'Unable to deregister task definition: a revision must be specified.');
    }
    const record = this.find(ref);
    if (!record) throw new EcsError('ClientException', 'The specified task definition does not exist.');
    if (record.status === 'ACTIVE') {
      record.status = 'INACTIVE';
      record.deregisteredAt = now;
    }
    return record;
  }

  /** ListTaskDefinitions: `familyPrefix` is the full family name, as in real ECS. */
  list(input: { familyPrefix?: unknown; status?: unknown; sort?: unknown; maxResults?: unknown; nextToken?: unknown }): {
    taskDefinitionArns: string[];
    nextToken?: string;
  } {
    const status = input.status ?? 'ACTIVE';
    if (status !== 'ACTIVE' && status !== 'INACTIVE' && status !== 'DELETE_IN_PROGRESS') {
      throw new EcsError('InvalidParameterException', `Invalid status: ${String(status)}.`);
    }
    const sort = input.sort ?? 'ASC';
    if (sort !== 'ASC' && sort !== 'DESC') throw new EcsError('InvalidParameterException', `Invalid sort: ${String(sort)}.`);
    const size = pageSize(input.maxResults, 100);
    const desc = sort === 'DESC';
    const cmp = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]) * (desc ? -1 : 1);

    const rows = this.all(typeof input.familyPrefix === 'string' && input.familyPrefix ? input.familyPrefix : undefined)
      .filter((r) => r.status === status)
      .map((r) => [r.family, r.revision, r.arn] as [string, number, string])
      .sort((a, b) => cmp([a[0], a[1]], [b[0], b[1]]));
    const after = decodeToken(input.nextToken as string | undefined, isCursor);
    const start = after ? rows.filter((r) => cmp([r[0], r[1]], after) <= 0).length : 0;
    const page = rows.slice(start, start + size);
    const more = start + size < rows.length;
    const last = page[page.length - 1];
    return {
      taskDefinitionArns: page.map((r) => r[2]),
      ...(more && last ? { nextToken: encodeToken([last[0], last[1]]) } : {}),
    };
  }

  /** All revisions (optionally of one family), oldest first within a family. */
  all(family?: string): TaskDefinitionRecord[] {
    if (family !== undefined) return [...(this.families.get(family) ?? [])];
    return [...this.families.values()].flat();
  }

  /** The taskDefinition object as Describe/Register/Deregister answer it. */
  render(record: TaskDefinitionRecord): Wire<TaskDefinition> {
    return {
      ...clone(record.body),
      status: record.status,
      ...(record.deregisteredAt !== undefined ? { deregisteredAt: seconds(record.deregisteredAt) } : {}),
    };
  }
}

function isCursor(v: unknown): v is [string, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number';
}

/** Applies ECS's registration checks and defaults; returns the checked request. */
function validate(def: RegisterTaskDefinitionRequest): RegisterTaskDefinitionRequest {
  if (typeof def.family !== 'string' || def.family.length === 0) {
    throw new EcsError('ClientException', 'Family must not be null or empty.');
  }
  if (!NAME.test(def.family)) {
    throw new EcsError('ClientException', 'Family contains invalid characters: up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.');
  }
  if (!Array.isArray(def.containerDefinitions) || def.containerDefinitions.length === 0) {
    throw new EcsError('ClientException', 'Container list cannot be empty.');
  }
  const names = new Set<string>();
  for (const raw of def.containerDefinitions as unknown[]) {
    if (!isObject(raw)) throw new EcsError('ClientException', 'Container definitions must be objects.');
    const c = raw as ContainerDefinition;
    if (typeof c.name !== 'string' || c.name.length === 0) {
      throw new EcsError('ClientException', 'Container.name should not be null or empty.');
    }
    if (!NAME.test(c.name)) throw new EcsError('ClientException', `Container name '${c.name}' contains invalid characters.`);
    if (names.has(c.name)) throw new EcsError('ClientException', `Duplicate container name: ${c.name}.`);
    names.add(c.name);
    if (typeof c.image !== 'string' || c.image.trim().length === 0) {
      throw new EcsError('ClientException', 'Container.image should not be null or empty.');
    }
    if (/\s/.test(c.image)) throw new EcsError('ClientException', `Invalid container image '${c.image}'.`);
    for (const e of (c.environment ?? []) as unknown[]) {
      if (!isObject(e) || typeof e.name !== 'string' || e.name.length === 0) {
        throw new EcsError('ClientException', `Environment variable names in container '${c.name}' must not be empty.`);
      }
    }
  }
  const networkMode = def.networkMode ?? 'bridge';
  if (!['bridge', 'host', 'awsvpc', 'none'].includes(networkMode)) {
    throw new EcsError('ClientException', `Invalid networkMode: ${networkMode}.`);
  }
  const requires = def.requiresCompatibilities ?? [];
  if (requires.includes('FARGATE')) {
    if (networkMode !== 'awsvpc') throw new EcsError('ClientException', "Fargate only supports network mode 'awsvpc'.");
    if (def.cpu === undefined) throw new EcsError('ClientException', "Fargate requires that 'cpu' be defined at the task level.");
    if (def.memory === undefined) {
      throw new EcsError('ClientException', "Fargate requires that 'memory' be defined at the task level.");
    }
  }
  return { ...def, networkMode };
}

/** Adds the defaults ECS fills into each container definition. */
function normalizeContainer(c: ContainerDefinition, networkMode: string | undefined): Wire<ContainerDefinition> {
  const hostDefault = (port: number | undefined) => (networkMode === 'awsvpc' || networkMode === 'host' ? port : 0);
  return {
    ...c,
    cpu: c.cpu ?? 0,
    portMappings: (c.portMappings ?? []).map((p) => ({
      ...p,
      hostPort: p.hostPort ?? hostDefault(p.containerPort),
      protocol: p.protocol ?? 'tcp',
    })),
    essential: c.essential ?? true,
    environment: c.environment ?? [],
    mountPoints: c.mountPoints ?? [],
    volumesFrom: c.volumesFrom ?? [],
    ...(c.healthCheck
      ? {
          healthCheck: {
            ...c.healthCheck,
            interval: c.healthCheck.interval ?? 30,
            timeout: c.healthCheck.timeout ?? 5,
            retries: c.healthCheck.retries ?? 3,
          },
        }
      : {}),
    systemControls: c.systemControls ?? [],
  };
}

/** The capability attributes ECS derives from a definition. */
function requiredAttributes(def: RegisterTaskDefinitionRequest): Attribute[] {
  const names = new Set<string>();
  const containers = def.containerDefinitions ?? [];
  if (def.networkMode === 'awsvpc') names.add('ecs.capability.task-eni');
  if (def.taskRoleArn) names.add('com.amazonaws.ecs.capability.task-iam-role');
  for (const c of containers) {
    if (c.logConfiguration?.logDriver === 'awslogs') {
      names.add('com.amazonaws.ecs.capability.logging-driver.awslogs');
      names.add('com.amazonaws.ecs.capability.docker-remote-api.1.19');
      if (def.executionRoleArn) names.add('ecs.capability.execution-role-awslogs');
    }
    if (c.healthCheck) {
      names.add('ecs.capability.container-health-check');
      names.add('com.amazonaws.ecs.capability.docker-remote-api.1.24');
    }
    if (c.memoryReservation !== undefined) names.add('com.amazonaws.ecs.capability.docker-remote-api.1.21');
    if (c.dependsOn?.length) names.add('ecs.capability.container-ordering');
    for (const s of c.secrets ?? []) {
      if (String(s.valueFrom).includes(':secretsmanager:')) names.add('ecs.capability.secrets.asm.environment-variables');
      else names.add('ecs.capability.secrets.ssm.environment-variables');
      if (def.executionRoleArn) names.add('ecs.capability.execution-role-ecr-pull');
    }
    if (c.environmentFiles?.length) names.add('ecs.capability.env-files.s3');
  }
  names.add('com.amazonaws.ecs.capability.docker-remote-api.1.18');
  return [...names].sort().map((name) => ({ name }));
}

/** The launch types a definition is compatible with. */
function compatibilities(def: RegisterTaskDefinitionRequest): Compatibility[] {
  const out: Compatibility[] = ['EC2'];
  if (def.networkMode === 'awsvpc' && def.cpu !== undefined && def.memory !== undefined) out.push('FARGATE');
  if (def.requiresCompatibilities?.includes('EXTERNAL')) out.push('EXTERNAL');
  if (def.requiresCompatibilities?.includes('MANAGED_INSTANCES')) out.push('MANAGED_INSTANCES');
  return out;
}
