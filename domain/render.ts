/**
 * Planning a deployment's task definition, as plain data (STYLE.md item 9: plan is pure,
 * apply is I/O).
 *
 * - `renderTaskDefinition` turns the template (as DescribeTaskDefinition returns it) into
 *   the RegisterTaskDefinition request for the deployed family, with new images.
 * - `diffTaskDefinitions` lists what would change against the live task definition, for a
 *   dry run or a review before applying.
 *
 * No I/O, no clock, no randomness; the AWS SDK and the config are imported for their types
 * only, so this module stays light enough for any context, workflow code included.
 */
import type { ContainerDefinition, RegisterTaskDefinitionRequest, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import type { Target } from './config';
import { BadInput } from './errors';
import { tagProblem } from './tags';

/**
 * Fields of a task definition that RegisterTaskDefinition accepts, copied from the
 * template. Everything else DescribeTaskDefinition returns (taskDefinitionArn, revision,
 * status, requiresAttributes, compatibilities, registeredAt, registeredBy,
 * deregisteredAt, deleteRequestedAt, and whatever AWS adds later) is read-only and dropped.
 * `tags` is not taken from the template: the request's tags are the ones passed in.
 */
export const REGISTER_FIELDS = [
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
] as const satisfies readonly (keyof RegisterTaskDefinitionRequest & keyof TaskDefinition)[];

// Fails to compile when the SDK's RegisterTaskDefinitionRequest gains a field that is
// neither in REGISTER_FIELDS nor `tags`, so a new field is a conscious decision.
type Unlisted = Exclude<keyof RegisterTaskDefinitionRequest, (typeof REGISTER_FIELDS)[number] | 'tags'>;
const registerFieldsComplete: [Unlisted] extends [never] ? true : Unlisted = true;
void registerFieldsComplete;

/** A resource tag to put on the registered task definition. */
export interface ResourceTag {
  key: string;
  value: string;
}

/** ECS limits on resource tags. */
const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/**
 * The RegisterTaskDefinition request that deploys `tag` to `target`: the template with
 * every configured container's image set to `<repository>:<tag>`, registered under
 * `target.family`, plus `tags`. The template is not modified.
 *
 * Throws `BadInput` when the tag or the resource tags are malformed, when the template is
 * not `target.templateFamily`, or when a configured container is missing from it.
 */
export function renderTaskDefinition(template: TaskDefinition, target: Target, tag: string, tags: ResourceTag[] = []): RegisterTaskDefinitionRequest {
  checkInputs(template, target, tag, tags);
  const request = pickRegisterFields(template);
  request.family = target.family;
  request.containerDefinitions = withImages(request.containerDefinitions ?? [], target, tag);
  if (tags.length > 0) request.tags = tags.map((t): Tag => ({ key: t.key, value: t.value }));
  return request;
}

function checkInputs(template: TaskDefinition, target: Target, tag: string, tags: ResourceTag[]): void {
  const bad = tagProblem(tag);
  if (bad) throw new BadInput(bad, [`tag: ${bad}`]);
  if (template.family !== target.templateFamily) {
    const problem = `template family is ${JSON.stringify(template.family)}, expected ${target.templateFamily} (the templateFamily of ${target.app}/${target.env})`;
    throw new BadInput(`Cannot render ${target.app}/${target.env}: ${problem}.`, [`templateFamily: ${problem}`]);
  }
  checkContainersExist(template, target);
  const tagProblems = resourceTagProblems(tags);
  if (tagProblems.length > 0) {
    throw new BadInput(`Invalid task definition tags:\n${tagProblems.map((p) => `  - ${p}`).join('\n')}`, tagProblems);
  }
}

/** Every configured container must be in the template; the error names the ones it has. */
function checkContainersExist(template: TaskDefinition, target: Target): void {
  const present = (template.containerDefinitions ?? []).map((c) => c.name ?? '(unnamed)');
  const missing = target.containers.map((c) => c.name).filter((name) => !present.includes(name));
  if (missing.length === 0) return;
  const configuredAt = joinPath(['apps', target.app, 'environments', target.env, 'containers']);
  const problems = missing.map((name) => `${configuredAt}.${name}: task definition template ${target.templateFamily} has no container "${name}"`);
  const names = missing.map((n) => `"${n}"`).join(', ');
  throw new BadInput(
    `Task definition template ${target.templateFamily} has no container ${names} (configured in ${configuredAt}); ` + `its containers are: ${present.join(', ') || '(none)'}.`,
    problems,
  );
}

/** What is wrong with the resource tags, by ECS's rules; empty when they are fine. */
function resourceTagProblems(tags: ResourceTag[]): string[] {
  const problems: string[] = [];
  if (tags.length > MAX_TAGS) problems.push(`tags: ${tags.length} tags given; ECS allows at most ${MAX_TAGS}`);
  const seen = new Set<string>();
  tags.forEach((t, i) => {
    const at = `tags[${i}]`;
    if (typeof t.key !== 'string' || t.key.length === 0) problems.push(`${at}.key: is required`);
    else if (t.key.length > MAX_TAG_KEY) problems.push(`${at}.key: is longer than ${MAX_TAG_KEY} characters`);
    else if (t.key.toLowerCase().startsWith('aws:')) problems.push(`${at}.key: "aws:" keys are reserved by AWS`);
    else if (seen.has(t.key)) problems.push(`${at}.key: "${t.key}" is given more than once`);
    if (typeof t.value !== 'string') problems.push(`${at}.value: must be a string`);
    else if (t.value.length > MAX_TAG_VALUE) problems.push(`${at}.value: is longer than ${MAX_TAG_VALUE} characters`);
    seen.add(t.key);
  });
  return problems;
}

/** A deep copy of the template's registrable fields. */
function pickRegisterFields(template: TaskDefinition): RegisterTaskDefinitionRequest {
  const picked: Record<string, unknown> = {};
  for (const field of REGISTER_FIELDS) {
    const value = template[field];
    if (value !== undefined && value !== null) picked[field] = structuredClone(value);
  }
  return picked as unknown as RegisterTaskDefinitionRequest;
}

/** The containers with each configured one's image replaced; the others untouched. */
function withImages(containers: ContainerDefinition[], target: Target, tag: string): ContainerDefinition[] {
  const images = new Map(target.containers.map((c) => [c.name, `${c.repository}:${tag}`]));
  return containers.map((c) => {
    const image = c.name === undefined ? undefined : images.get(c.name);
    return image === undefined ? c : { ...c, image };
  });
}

// ---------------------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------------------

/**
 * One difference between two task definitions, always at a leaf (a string, number,
 * boolean or list). `from` is undefined for something added, `to` for something removed. Paths name containers, environment variables,
 * secrets and volumes by name: `containerDefinitions.django.environment.DJANGO_DEBUG_ENABLED`.
 */
export interface TaskDefinitionChange {
  path: string;
  from: unknown;
  to: unknown;
}

/**
 * What registering `rendered` changes compared with `live` (undefined when nothing is
 * deployed yet). Only registrable fields are compared, so read-only fields (revision,
 * status, registeredAt, …) and resource tags never show up. Lists are matched by name
 * where they have one, so reordering is not a change; an empty list equals an absent one.
 * Image changes come first.
 */
export function diffTaskDefinitions(
  live: TaskDefinition | RegisterTaskDefinitionRequest | undefined,
  rendered: TaskDefinition | RegisterTaskDefinitionRequest,
): TaskDefinitionChange[] {
  const changes: TaskDefinitionChange[] = [];
  diffValues([], comparable(live), comparable(rendered), changes);
  const isImage = (c: TaskDefinitionChange) => /^containerDefinitions\.[^.]+\.image$/.test(c.path);
  return [...changes.filter(isImage), ...changes.filter((c) => !isImage(c))];
}

/** `path: from → to` in one line, for printing a plan. */
export function formatChange(change: TaskDefinitionChange): string {
  if (change.from === undefined) return `+ ${change.path}: ${show(change.to)}`;
  if (change.to === undefined) return `- ${change.path}: ${show(change.from)}`;
  return `~ ${change.path}: ${show(change.from)} → ${show(change.to)}`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

type Plain = Record<string, unknown>;

/** The registrable fields, with named lists turned into maps keyed by name. */
function comparable(td: TaskDefinition | RegisterTaskDefinitionRequest | undefined): Plain {
  if (!td) return {};
  const out: Plain = {};
  for (const field of REGISTER_FIELDS) out[field] = (td as Plain)[field];
  out.containerDefinitions = byName(td.containerDefinitions ?? [], (c) => comparableContainer(c));
  out.volumes = byName(td.volumes ?? [], (v) => v);
  return out;
}

function comparableContainer(c: ContainerDefinition): Plain {
  return {
    ...c,
    environment: Object.fromEntries((c.environment ?? []).map((e) => [e.name ?? '', e.value])),
    secrets: Object.fromEntries((c.secrets ?? []).map((s) => [s.name ?? '', s.valueFrom])),
  };
}

function byName<T extends { name?: string }>(items: T[], map: (item: T) => unknown): Plain {
  return Object.fromEntries(items.map((item, i) => [item.name ?? `#${i}`, map(item)]));
}

function diffValues(path: string[], from: unknown, to: unknown, out: TaskDefinitionChange[]): void {
  if (isAbsent(from) && isAbsent(to)) return;
  // Descend into objects, an absent side counting as empty, so every change is a leaf.
  const fromObject = isPlainObject(from) || isAbsent(from);
  const toObject = isPlainObject(to) || isAbsent(to);
  if ((isPlainObject(from) || isPlainObject(to)) && fromObject && toObject) {
    const a = isPlainObject(from) ? from : {};
    const b = isPlainObject(to) ? to : {};
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) diffValues([...path, key], a[key], b[key], out);
    return;
  }
  if (stableJson(from) === stableJson(to)) return;
  out.push({
    path: joinPath(path),
    from: isAbsent(from) ? undefined : from,
    to: isAbsent(to) ? undefined : to,
  });
}

/** `['containerDefinitions','django','image']` → `containerDefinitions.django.image`; odd keys quoted. */
function joinPath(segments: string[]): string {
  return segments.map((s, i) => (/^[A-Za-z_$][\w$-]*$/.test(s) ? (i === 0 ? s : `.${s}`) : `[${JSON.stringify(s)}]`)).join('');
}

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** undefined, null, [] and {} all mean "not set" to ECS. */
function isAbsent(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.values(value).every(isAbsent);
}

/** JSON with object keys sorted, so key order never counts as a difference. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}
