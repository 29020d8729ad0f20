/** An ECS sandbox with one service (`c1/web`), and SDK clients on it signed as a given caller. */
import { ECSClient } from '@aws-sdk/client-ecs';
import { type EcsSandbox, startEcsSandbox } from '../sandbox/ecs';

export async function startWebSandbox(): Promise<EcsSandbox> {
  const ecs = await startEcsSandbox();
  ecs.seedService({
    cluster: 'c1',
    service: 'web',
    desiredCount: 1,
    taskDefinition: { family: 'web', containerDefinitions: [{ name: 'app', image: 'registry.example/app:1' }] },
  });
  return ecs;
}

/** A client whose requests the sandbox counts under `accessKeyId`. */
export function callerClient(ecs: EcsSandbox, accessKeyId: string, maxAttempts = 1): ECSClient {
  return new ECSClient({ endpoint: ecs.url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts });
}
