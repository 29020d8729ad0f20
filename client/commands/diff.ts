/**
 * slipway diff <app> <env> <tag> (also `slipway deploy --dry-run`) — the plan of a deploy
 * without applying it: renders the task definition from the live template and lists what
 * would change against the revision the service runs now, and checks the tag exists for
 * every image. Only reads: no workflow, no registration, no service update.
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, type ECSClient, type TaskDefinition } from '@aws-sdk/client-ecs';
import { createRegistryActivities } from '../../activities/registry';
import { resolveTarget, type Target } from '../../domain/config';
import { ClientRejected, NotFound } from '../../domain/errors';
import { diffTaskDefinitions, formatChange, renderTaskDefinition, type TaskDefinitionChange } from '../../domain/render';
import { deployBudget, describeSettings, type Budget } from '../../domain/strategy';
import { shortTag, tagProblem } from '../../domain/tags';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';

export interface DiffPlan {
  ok: boolean;
  app: string;
  env: string;
  tag: string;
  templateFamily: string;
  family: string;
  /** The service's current revision (absent when the service runs none). */
  live?: { taskDefinitionArn: string; cluster: string; service: string };
  changes: TaskDefinitionChange[];
  /** How the service deploys (strategy, bake time, hooks, alarms) and the budget a deploy would get. */
  strategy: string;
  budget: Budget;
  /** Why a deploy of this tag would be refused (missing images, desiredCount 0), when it would. */
  refused?: string;
}

export async function diffCommand(ctx: Context, args: string[]): Promise<number> {
  if (args.length !== 3) throw new UsageError(`diff takes <app> <env> <tag>; got ${args.length} argument(s). Run 'slipway help diff'.`);
  const [app, env, tag] = args;
  const problem = tagProblem(tag);
  if (problem) throw new UsageError(problem);
  const config = ctx.config();
  const target = resolveTarget(config, app, env);
  const { ecsClients, registryClient } = await import('../../activities/clients');
  const { createEcsActivities } = await import('../../activities/ecs');
  const clients = ecsClients(() => config);
  const ecs = clients(target.region);
  const images = createRegistryActivities({ registry: registryClient(config, ctx.env) });

  const [refused, template, live] = await Promise.all([
    images.checkImageTags({ images: target.images, tag }).then(
      () => undefined,
      (err: Error) => {
        if (err.name === 'NotFound') return err.message;
        throw err.name === 'RegistryUnavailable' ? new ClientRejected(err.message) : err;
      },
    ),
    describeTemplate(ecs, target),
    describeLive(ecs, target),
  ]);
  const settings = await createEcsActivities({ ecs: clients })
    .readDeploymentSettings({ target })
    .catch((err: Error) => {
      throw err.name === 'NotFound' ? err : awsFailure(`describing service ${target.cluster}/${target.service}`, err);
    });
  const budget = deployBudget(settings, target.budgetSeconds);
  const idle = settings.desiredCount <= 0 ? `service ${target.cluster}/${target.service} has desiredCount 0: scale it up first` : undefined;
  const refusal = refused ?? idle;
  const rendered = renderTaskDefinition(template, target, tag);
  const changes = diffTaskDefinitions(live?.taskDefinition, rendered);

  const plan: DiffPlan = {
    ok: refusal === undefined,
    app,
    env,
    tag,
    templateFamily: target.templateFamily,
    family: target.family,
    ...(live && { live: { taskDefinitionArn: live.arn, cluster: target.cluster, service: target.service } }),
    changes,
    strategy: describeSettings(settings),
    budget,
    ...(refusal !== undefined && { refused: refusal }),
  };
  const against = live
    ? `${live.arn.split('/').pop()}, which ${target.cluster}/${target.service} runs now`
    : `nothing: ${target.cluster}/${target.service} runs no task definition`;
  const human = [
    `Plan: deploy ${app} ${shortTag(tag)} → ${env} (dry run: nothing is registered or changed)`,
    `  rendered from ${target.templateFamily} as ${target.family}, compared with ${against}`,
    `  ${target.service} deploys ${plan.strategy}; budget ${budget.breakdown}`,
    '',
    ...(changes.length ? changes.map(formatChange) : ['no changes: the rendered task definition equals the running one']),
    '',
    `${changes.length} change(s).`,
    refusal === undefined
      ? `✔ ${shortTag(tag)} exists for every image (${target.images.map((i) => imageName(i.repository)).join(', ')})`
      : `✘ a deploy would be refused: ${refusal}`,
  ];
  ctx.result(human.join('\n'), plan);
  if (refusal === undefined) return EXIT.ok;
  if (!ctx.flags.json) process.stderr.write(`slipway: refused: ${refusal}\n`);
  ctx.annotateError(`slipway diff ${app} ${env}`, refusal);
  return EXIT.badInput;
}

function imageName(repository: string): string {
  return repository.slice(repository.lastIndexOf('/') + 1);
}

async function describeTemplate(ecs: ECSClient, target: Target): Promise<TaskDefinition> {
  const what = `fetching the template task definition ${target.templateFamily}`;
  const out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: target.templateFamily })).catch((err: Error) => {
    if (err.name === 'ClientException' || err.name === 'ResourceNotFoundException') {
      throw new NotFound(
        `template task definition '${target.templateFamily}' was not found in ${target.region} (app ${target.app}, env ${target.env}): ` +
          `create it, or fix apps.${target.app}.environments.${target.env}.templateFamily in the config`,
      );
    }
    throw awsFailure(what, err);
  });
  if (!out.taskDefinition) throw new NotFound(`${what}: ECS answered without a task definition`);
  return out.taskDefinition;
}

/** The revision the service runs now (its task definition), or undefined when it runs none. */
async function describeLive(ecs: ECSClient, target: Target): Promise<{ arn: string; taskDefinition: TaskDefinition } | undefined> {
  const svc = `${target.cluster}/${target.service}`;
  const hint = `check apps.${target.app}.environments.${target.env}.cluster/service in the config`;
  const out = await ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] })).catch((err: Error) => {
    if (err.name === 'ClusterNotFoundException' || err.name === 'ServiceNotFoundException') throw new NotFound(`service ${svc}: ${err.message}; ${hint}`);
    throw awsFailure(`describing service ${svc}`, err);
  });
  const service = out.services?.find((s) => s.status !== 'INACTIVE');
  if (!service) throw new NotFound(`service ${svc} was not found in ${target.region}: ${hint}`);
  if (!service.taskDefinition) return undefined;
  const arn = service.taskDefinition;
  const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })).catch((err: Error) => {
    throw awsFailure(`fetching the running task definition ${arn}`, err);
  });
  return td.taskDefinition ? { arn, taskDefinition: td.taskDefinition } : undefined;
}

/** ECS could not be asked (unreachable, refused credentials, throttled): one line, not a crash. */
function awsFailure(what: string, err: Error): ClientRejected {
  return new ClientRejected(`${what}: ${err.name}: ${err.message}`);
}
