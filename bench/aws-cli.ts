/** The AWS CLI, pointed at the ECS sandbox with dummy credentials. */
import { readFileSync } from 'node:fs';
import { run, type TimedRun } from './proc';
import { REGION } from './stack';

/** `aws` from PATH, or the one bench/run.sh installed (BENCH_AWS_CLI). */
export const AWS_CLI = process.env.BENCH_AWS_CLI || 'aws';

/** Environment with dummy credentials and no profile, metadata service or pager. */
export function awsEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** `aws <args> --endpoint-url <endpoint>`. */
export function aws(endpoint: string, args: string[]): Promise<TimedRun> {
  return run(AWS_CLI, [...args, '--endpoint-url', endpoint, '--region', REGION], { env: awsEnv() });
}

/** `aws ecs wait services-stable` for one service. */
export function waitServicesStable(endpoint: string, cluster: string, service: string): Promise<TimedRun> {
  return aws(endpoint, ['ecs', 'wait', 'services-stable', '--cluster', cluster, '--services', service]);
}

export interface MeasuredRun extends TimedRun {
  /** Peak RSS (KiB) and user + system CPU seconds, from GNU time. */
  maxRssKiB: number;
  cpuSeconds: number;
}

/** The waiter under /usr/bin/time, which reports its peak RSS and CPU time into `statsFile`. */
export async function waitServicesStableMeasured(endpoint: string, cluster: string, service: string, statsFile: string): Promise<MeasuredRun> {
  const r = await run(
    '/usr/bin/time',
    ['-f', '%M %U %S', '-o', statsFile, AWS_CLI, 'ecs', 'wait', 'services-stable', '--cluster', cluster, '--services', service, '--endpoint-url', endpoint, '--region', REGION],
    { env: awsEnv() },
  );
  const [rss, user, sys] = readFileSync(statsFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
  return { ...r, maxRssKiB: rss, cpuSeconds: user + sys };
}

export async function awsVersion(): Promise<string> {
  const r = await run(AWS_CLI, ['--version'], { env: awsEnv() });
  return (r.stdout || r.stderr).trim().split(' ')[0] ?? 'unknown';
}
