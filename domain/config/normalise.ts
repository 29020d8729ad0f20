/** Raw config that passed the schema and the rules → `SlipwayConfig`, defaults filled in. */
import type { BucketLimit, ThrottlingCategory } from '../ecs-throttling';
import { TRUSTED_CALLER, type IdentityConfig, type IdentityMode } from '../identity';
import { CONFIG_DEFAULTS } from './defaults';
import type { AppConfig, EnvironmentConfig, PipelineConfig, SlipwayConfig, TestTraffic } from './model';

/** The shape a config has once it passed the schema and the rules. */
export interface RawConfig {
  aws: {
    region: string;
    endpoint?: string;
    ecsApiShare?: number;
    ecsApiWorkerShare?: number;
    ecsApiLimits?: Partial<Record<ThrottlingCategory, BucketLimit>>;
    events?: { queueUrl: string; endpoint?: string; reconcileSeconds?: number };
  };
  temporal?: { taskQueue?: string; uiUrl?: string; namespace?: string };
  deploy?: { budgetMinutes?: number; verifyBudgetMinutes?: number };
  environments: string[];
  apps: Record<string, RawApp>;
  github?: { repository: string; apiUrl?: string; tokenEnv?: string };
  authorization?: { team: string; allow?: string[]; protectedEnvironments?: string[] };
  identity?: {
    default?: IdentityMode;
    environments?: Record<string, IdentityMode>;
    operations?: IdentityConfig['operations'];
    oidc?: { issuer?: string; audience?: string; jwksUrl?: string; repository?: string; workflowRefs?: string[]; environments?: string[]; leewaySeconds?: number };
  };
  registries?: Record<string, { usernameEnv?: string; passwordEnv?: string; insecure?: boolean }>;
  notifications?: {
    slack?: { webhookUrlEnv: string; users?: Record<string, string>; maintainersMention?: string };
    githubDeployments?: boolean;
  };
}

interface RawApp {
  pipeline?: Partial<Omit<PipelineConfig, 'gate' | 'productionSmoke'>> & {
    gate?: { playwright?: Partial<NonNullable<NonNullable<PipelineConfig['gate']>['playwright']>> & { suiteDir: string }; githubWorkflow?: { workflow: string; ref?: string } };
    productionSmoke?: { playwright: Partial<NonNullable<PipelineConfig['productionSmoke']>['playwright']> & { suiteDir: string } };
  };
  releaseOnly?: boolean;
  images: Record<string, string>;
  environments?: Record<
    string,
    Omit<EnvironmentConfig, 'budgetMinutes' | 'testTraffic'> & {
      budgetMinutes?: number;
      testTraffic?: Partial<TestTraffic> & { versionEndpoint: string };
    }
  >;
}

export function normalise(raw: RawConfig, source: string): SlipwayConfig {
  const deploy = {
    budgetMinutes: raw.deploy?.budgetMinutes ?? CONFIG_DEFAULTS.budgetMinutes,
    verifyBudgetMinutes: raw.deploy?.verifyBudgetMinutes ?? CONFIG_DEFAULTS.verifyBudgetMinutes,
  };
  const apps: Record<string, AppConfig> = {};
  for (const [name, app] of Object.entries(raw.apps)) apps[name] = normaliseApp(name, app, deploy.budgetMinutes);
  return {
    source,
    aws: {
      region: raw.aws.region,
      ...(raw.aws.endpoint !== undefined && { endpoint: raw.aws.endpoint }),
      ecsApiShare: raw.aws.ecsApiShare ?? CONFIG_DEFAULTS.ecsApiShare,
      ...(raw.aws.ecsApiWorkerShare !== undefined && { ecsApiWorkerShare: raw.aws.ecsApiWorkerShare }),
      ...(raw.aws.ecsApiLimits !== undefined && { ecsApiLimits: raw.aws.ecsApiLimits }),
      ...(raw.aws.events !== undefined && {
        events: {
          queueUrl: raw.aws.events.queueUrl,
          ...(raw.aws.events.endpoint !== undefined && { endpoint: raw.aws.events.endpoint }),
          reconcileSeconds: raw.aws.events.reconcileSeconds ?? CONFIG_DEFAULTS.eventsReconcileSeconds,
        },
      }),
    },
    temporal: {
      taskQueue: raw.temporal?.taskQueue ?? CONFIG_DEFAULTS.taskQueue,
      uiUrl: raw.temporal?.uiUrl ?? CONFIG_DEFAULTS.temporalUiUrl,
      namespace: raw.temporal?.namespace ?? CONFIG_DEFAULTS.temporalNamespace,
    },
    deploy,
    environments: [...raw.environments],
    apps,
    ...(raw.github && {
      github: {
        repository: raw.github.repository,
        owner: raw.github.repository.split('/')[0],
        repo: raw.github.repository.split('/')[1],
        apiUrl: (raw.github.apiUrl ?? 'https://api.github.com').replace(/\/$/, ''),
        tokenEnv: raw.github.tokenEnv ?? 'GITHUB_TOKEN',
      },
    }),
    ...(raw.authorization && {
      authorization: {
        org: raw.authorization.team.split('/')[0],
        team: raw.authorization.team.split('/')[1],
        allow: [...(raw.authorization.allow ?? [])],
        protectedEnvironments: [...(raw.authorization.protectedEnvironments ?? ['production'])],
      },
    }),
    identity: normaliseIdentity(raw),
    registries: Object.fromEntries(Object.entries(raw.registries ?? {}).map(([host, r]) => [host, { ...r, insecure: r.insecure ?? false }])),
    notifications: {
      ...(raw.notifications?.slack && { slack: { ...raw.notifications.slack, users: { ...(raw.notifications.slack.users ?? {}) } } }),
      githubDeployments: raw.notifications?.githubDeployments ?? false,
    },
  };
}

function normaliseIdentity(raw: RawConfig): IdentityConfig {
  const id = raw.identity;
  if (!id) return { ...TRUSTED_CALLER };
  const o = id.oidc;
  const issuer = (o?.issuer ?? 'https://token.actions.githubusercontent.com').replace(/\/$/, '');
  return {
    default: id.default ?? 'trusted-caller',
    environments: { ...(id.environments ?? {}) },
    operations: { ...(id.operations ?? {}) },
    ...(o && {
      oidc: {
        issuer,
        audience: o.audience ?? 'slipway',
        jwksUrl: o.jwksUrl ?? `${issuer}/.well-known/jwks`,
        repository: (o.repository ?? raw.github?.repository)!,
        workflowRefs: [...(o.workflowRefs ?? [])],
        environments: [...(o.environments ?? [])],
        leewaySeconds: o.leewaySeconds ?? 30,
      },
    }),
  };
}

function normaliseApp(name: string, app: RawApp, budgetMinutes: number): AppConfig {
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [env, e] of Object.entries(app.environments ?? {})) {
    environments[env] = {
      cluster: e.cluster,
      service: e.service,
      templateFamily: e.templateFamily,
      containers: { ...e.containers },
      ...(e.url !== undefined && { url: e.url }),
      ...(e.versionEndpoint !== undefined && { versionEndpoint: e.versionEndpoint }),
      budgetMinutes: e.budgetMinutes ?? budgetMinutes,
      ...(e.stopType !== undefined && { stopType: e.stopType }),
      ...(e.testTraffic && {
        testTraffic: {
          versionEndpoint: e.testTraffic.versionEndpoint,
          ...(e.testTraffic.url !== undefined && { url: e.testTraffic.url }),
          playwright: e.testTraffic.playwright ?? false,
          approval: e.testTraffic.approval ?? false,
          deadlineMinutes: e.testTraffic.deadlineMinutes ?? 60,
        },
      }),
    };
  }
  return {
    name,
    releaseOnly: app.releaseOnly ?? CONFIG_DEFAULTS.releaseOnly,
    images: { ...app.images },
    environments,
    ...(app.pipeline && { pipeline: normalisePipeline(app.pipeline) }),
  };
}

function normalisePipeline(p: NonNullable<RawApp['pipeline']>): PipelineConfig {
  const pw = p.gate?.playwright;
  const gh = p.gate?.githubWorkflow;
  const smoke = p.productionSmoke?.playwright;
  return {
    policy: p.policy ?? 'latest',
    approvals: p.approvals ?? 1,
    allowSelfApproval: p.allowSelfApproval ?? false,
    approvalDeadlineHours: p.approvalDeadlineHours ?? 72,
    autoApprove: p.autoApprove ?? false,
    imageWaitMinutes: p.imageWaitMinutes ?? 60,
    ...((pw || gh) && {
      gate: {
        ...(pw && { playwright: { ...pw, retries: pw.retries ?? 1, timeoutMinutes: pw.timeoutMinutes ?? 30 } }),
        ...(gh && { githubWorkflow: { workflow: gh.workflow, ref: gh.ref ?? 'main' } }),
      },
    }),
    ...(smoke && { productionSmoke: { playwright: { ...smoke, timeoutMinutes: smoke.timeoutMinutes ?? 15 } } }),
  };
}
