/**
 * The ECS activities against moto's ECS: an implementation Slipway did not write accepts
 * the requests (template fetch, render, tagged registration, the retry's look-up of its own
 * revision, UpdateService).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createEcsActivities, DEPLOYMENT_TAG, type RegisteredRevision } from '../activities/ecs';
import { parseConfig, resolveTarget } from '../domain/config';
import { renderTaskDefinition } from '../domain/render';
import { startMoto, type Moto } from '../sandbox/moto';
import { REPO_ROOT } from '../sandbox/tools';

const TAG = '3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a';

describe('ECS activities against moto', () => {
  let moto: Moto;
  let ecs: ECSClient;
  before(async () => {
    moto = await startMoto();
    ecs = new ECSClient({ endpoint: moto.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  after(async () => {
    ecs?.destroy();
    await moto?.close();
  });

  it('registers the rendered revision once, finds it on retry, and updates the service', async () => {
    const raw = parseYaml(readFileSync(join(REPO_ROOT, 'config/openverse.yaml'), 'utf8'));
    raw.aws.endpoint = moto.url;
    const config = parseConfig(stringifyYaml(raw), 'moto.yaml');
    const target = resolveTarget(config, 'api', 'staging');

    // Seed moto: the template as Terraform would leave it, and the service on revision 1.
    const template = JSON.parse(readFileSync(join(REPO_ROOT, 'sandbox/fixtures/templates/staging-api-template.json'), 'utf8'));
    await ecs.send(new CreateClusterCommand({ clusterName: target.cluster }));
    const seededTemplate = renderTaskDefinition({ ...template, family: target.templateFamily }, { ...target, family: target.templateFamily }, 'latest');
    await ecs.send(new RegisterTaskDefinitionCommand(seededTemplate));
    const first = await ecs.send(new RegisterTaskDefinitionCommand(renderTaskDefinition(template, target, 'a'.repeat(40))));
    await ecs.send(new CreateServiceCommand({ cluster: target.cluster, serviceName: target.service, taskDefinition: first.taskDefinition!.taskDefinitionArn, desiredCount: 1 }));

    const acts = createEcsActivities({ ecs: () => ecs });
    const deploymentId = 'deploy/api/staging/run-1';
    const registered: RegisteredRevision = await new MockActivityEnvironment({ attempt: 1 }).run(acts.registerRevision, { target, tag: TAG, deploymentId });
    assert.equal(registered.reused, false);
    assert.match(registered.taskDefinitionArn, /task-definition\/staging-api:2$/);

    const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: registered.taskDefinitionArn, include: ['TAGS'] }));
    const images = (described.taskDefinition?.containerDefinitions ?? []).map((c) => `${c.name}=${c.image}`).sort();
    assert.deepEqual(images, [`django=ghcr.io/wordpress/openverse-api:${TAG}`, `nginx=ghcr.io/wordpress/openverse-api_nginx:${TAG}`]);
    assert.ok(
      (described.tags ?? []).some((t) => t.key === DEPLOYMENT_TAG && t.value === deploymentId),
      JSON.stringify(described.tags),
    );
    const env = described.taskDefinition?.containerDefinitions?.find((c) => c.name === 'django')?.environment ?? [];
    const templateEnv = template.containerDefinitions.find((c: any) => c.name === 'django').environment;
    assert.deepEqual(
      [...env].sort((a, b) => a.name!.localeCompare(b.name!)),
      [...templateEnv].sort((a: any, b: any) => a.name.localeCompare(b.name)),
    );

    // A retry (attempt 2) after a lost answer finds its own revision instead of registering again.
    const retried: RegisteredRevision = await new MockActivityEnvironment({ attempt: 2 }).run(acts.registerRevision, { target, tag: TAG, deploymentId });
    assert.equal(retried.reused, true);
    assert.equal(retried.taskDefinitionArn, registered.taskDefinitionArn);
    const list = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: target.family }));
    assert.equal(list.taskDefinitionArns?.filter((a) => /staging-api:\d+$/.test(a)).length, 2);

    // UpdateService is well formed: moto points the service at the new revision.
    await new MockActivityEnvironment({ attempt: 1 }).run(acts.updateService, { target, taskDefinitionArn: registered.taskDefinitionArn }).catch((err: Error) => {
      // moto does not implement the service-deployment APIs; the update itself must have landed.
      if (!/service deployment|ListServiceDeployments|not.*implemented/i.test(err.message)) throw err;
    });
    const svc = await ecs.send(new DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }));
    assert.equal(svc.services?.[0]?.taskDefinition, registered.taskDefinitionArn);
  });
});
