/**
 * Seeds an ECS sandbox with Openverse's services: the API (nginx + django) and the Nuxt
 * frontend in staging and production, each running an initial revision with the circuit
 * breaker's rollback enabled, plus the `<family>-template` task definitions Slipway renders
 * from (read from sandbox/fixtures/templates).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EcsSandbox } from './ecs';

/** The tag the seeded services run unless told otherwise. */
export const DEFAULT_INITIAL_TAG = '5e1d4c3b2a19f8e7d6c5b4a39281706f5e4d3c2b';

export const OPENVERSE_ENVIRONMENTS = ['staging', 'production'] as const;
export type OpenverseEnvironment = (typeof OPENVERSE_ENVIRONMENTS)[number];

/** Each app's family suffix, its container → image repository map and the container behind the load balancer. */
export const OPENVERSE_APPS = {
  api: {
    suffix: 'api',
    images: { nginx: 'ghcr.io/wordpress/openverse-api_nginx', django: 'ghcr.io/wordpress/openverse-api' },
    entryContainer: 'nginx',
  },
  frontend: {
    suffix: 'nuxt',
    images: { nuxt: 'ghcr.io/wordpress/openverse-frontend' },
    entryContainer: 'nuxt',
  },
} as const;

export interface SeedOpenverseOptions {
  /** Image tag the services run initially. Default DEFAULT_INITIAL_TAG. */
  initialTag?: string;
  /** Desired task count per environment. Default staging 1, production 2. */
  desiredCount?: Partial<Record<OpenverseEnvironment, number>>;
  /** Where `<family>-template.json` files are. Default sandbox/fixtures/templates. */
  templatesDir?: string;
}

export interface SeededOpenverseService {
  app: keyof typeof OPENVERSE_APPS;
  env: OpenverseEnvironment;
  cluster: string;
  service: string;
  family: string;
  serviceArn: string;
  taskDefinitionArn: string;
  templateArn: string;
}

export interface SeededOpenverse {
  initialTag: string;
  services: SeededOpenverseService[];
}

/** Seeds the four Openverse services and their templates. Accepts the initial tag directly too. */
export async function seedOpenverse(sandbox: EcsSandbox, options: SeedOpenverseOptions | string = {}): Promise<SeededOpenverse> {
  const opts: SeedOpenverseOptions = typeof options === 'string' ? { initialTag: options } : options;
  const initialTag = opts.initialTag ?? DEFAULT_INITIAL_TAG;
  const dir = opts.templatesDir ?? templatesDir();
  const counts: Record<OpenverseEnvironment, number> = { staging: 1, production: 2, ...opts.desiredCount };
  const services: SeededOpenverseService[] = [];

  for (const env of OPENVERSE_ENVIRONMENTS) {
    for (const [app, spec] of Object.entries(OPENVERSE_APPS) as [keyof typeof OPENVERSE_APPS, (typeof OPENVERSE_APPS)[keyof typeof OPENVERSE_APPS]][]) {
      const family = `${env}-${spec.suffix}`;
      const template = readTemplate(dir, `${family}-template`);
      const registered = sandbox.registerTemplate(template);

      const images: Record<string, string> = spec.images;
      const initial = structuredClone(template);
      initial.family = family;
      const containers = (initial.containerDefinitions ?? []) as { name?: string; image?: string; portMappings?: { containerPort?: number }[] }[];
      for (const c of containers) {
        const repository = c.name ? images[c.name] : undefined;
        if (repository) c.image = `${repository}:${initialTag}`;
      }
      const entry = containers.find((c) => c.name === spec.entryContainer);
      const cluster = `${env}-default`;
      const seeded = sandbox.seedService({
        cluster,
        service: family,
        desiredCount: counts[env],
        taskDefinition: initial,
        circuitBreaker: { enable: true, rollback: true },
        loadBalancers: [
          {
            targetGroupArn: targetGroupArn(family),
            containerName: spec.entryContainer,
            containerPort: entry?.portMappings?.[0]?.containerPort ?? 80,
          },
        ],
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: [`subnet-${hash(`${env}-a`, 17)}`, `subnet-${hash(`${env}-b`, 17)}`],
            securityGroups: [`sg-${hash(family, 17)}`],
            assignPublicIp: 'DISABLED',
          },
        },
      });
      services.push({
        app,
        env,
        cluster,
        service: family,
        family,
        serviceArn: seeded.serviceArn,
        taskDefinitionArn: seeded.taskDefinitionArn,
        templateArn: registered.arn,
      });
    }
  }
  return { initialTag, services };
}

function templatesDir(): string {
  const candidates = [join(__dirname, 'fixtures', 'templates'), join(process.cwd(), 'sandbox', 'fixtures', 'templates')];
  return candidates.find((d) => existsSync(d)) ?? candidates[0];
}

function readTemplate(dir: string, family: string): Record<string, unknown> {
  const file = join(dir, `${family}.json`);
  if (!existsSync(file)) throw new Error(`template ${family} not found: expected ${file}`);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a DescribeTaskDefinition taskDefinition object`);
  }
  const template = parsed as Record<string, unknown>;
  if (template.family !== family) throw new Error(`${file} holds family ${String(template.family)}, expected ${family}`);
  return template;
}

function targetGroupArn(name: string): string {
  return `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/${hash(name, 16)}`;
}

function hash(value: string, length: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}
