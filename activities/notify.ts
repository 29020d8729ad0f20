/**
 * Notification activities: a Slack incoming webhook, and GitHub Deployments.
 *
 * Failures are typed so the workflow can report "notification not sent: …" and carry on:
 *  - `NotificationUnavailable` (retryable): Slack answered 429 or 5xx, timed out or could
 *    not be reached; GitHub's 5xx and rate limits surface as `GitHubUnavailable` /
 *    `GitHubRateLimited` (see activities/github.ts);
 *  - `ClientRejected` (never retried): Slack or GitHub refused the request (4xx);
 *  - `BadInput` (never retried): the configuration cannot work (malformed webhook URL).
 *
 * The webhook URL is a secret: it is redacted from every error text, fetch's own errors
 * included, and errors never carry the original error as their cause.
 */
import type { Octokit } from '@octokit/rest';
import { BadInput, ClientRejected } from '../domain/errors';
import { githubDeploymentDescription, githubDeploymentState, slackMessage, type NotifyEvent } from '../domain/notify';
import { rethrowGitHub, type GitHubLog } from './github';
import { withHeartbeat } from './heartbeat';
import { stderrLog } from './log';

/** Slack could not take the message now (429, 5xx, timeout, network). Retryable. */
export class NotificationUnavailable extends Error {
  override name = 'NotificationUnavailable';
  constructor(
    message: string,
    /** Seconds Slack asked to wait (`retry-after` of a 429), when given. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Where the notify activities log (the worker's logger). */
export type NotifyLog = GitHubLog;

export interface SlackNotifyConfig {
  /** The incoming webhook (`https://hooks.slack.com/services/T…/B…/…`). A secret. */
  webhookUrl: string;
  /** GitHub login → Slack member ID, for mentions. */
  slackIds: Record<string, string>;
  /** Mentioned on failures, e.g. `<!subteam^S123>`. */
  maintainersMention?: string;
}

export interface GitHubNotifyConfig {
  /** From `createGitHubClient`; its token needs `repo_deployment` (classic) or Deployments: write (fine-grained). */
  octokit: Octokit;
  owner: string;
  repo: string;
  /** GitHub environment of an app in an env. Default `${env}-${app}` (e.g. `staging-api`). */
  environmentName?: (app: string, env: string) => string;
}

export interface NotifyDeps {
  /** Without it, `notifySlack` sends nothing and says so. */
  slack?: SlackNotifyConfig;
  /** Without it, `githubDeployment` records nothing and says so. */
  github?: GitHubNotifyConfig;
  /** Default the global fetch. */
  fetch?: typeof fetch;
  log?: NotifyLog;
  /** Longest wait for Slack's answer, in milliseconds. Default 10 000. */
  slackTimeoutMs?: number;
}

export interface SlackResult {
  sent: boolean;
  /** Why nothing was sent (not configured). */
  skipped?: string;
}

export interface GitHubDeploymentInput extends NotifyEvent {
  /** The deployment made by the `started` call; found by execution URL when absent. */
  deploymentId?: number;
  /** Git ref the deployment is of. Default the tag (a commit SHA for Openverse's staging). */
  ref?: string;
  /** The deployed site, shown by GitHub as the environment's link. */
  environmentUrl?: string;
}

export interface GitHubDeploymentResult {
  deploymentId?: number;
  /** Why nothing was recorded (not configured, no environment). */
  skipped?: string;
}

/** Key of the deployment payload that marks which execution made the deployment. */
export const EXECUTION_MARKER = 'execution_url';

const STDERR_LOG = stderrLog('notify');

const DEPLOYMENTS_TOKEN = 'the repo_deployment scope (classic token) or Deployments: write (fine-grained token)';

// ---------------------------------------------------------------------------------------
// Secrets

/** The secret parts of a webhook URL, longest first: the URL itself, its path, its last segments. */
function secretsOf(webhookUrl: string): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined) => {
    if (s && s.length >= 6) out.add(s);
  };
  add(webhookUrl);
  add(webhookUrl.trim());
  try {
    const u = new URL(webhookUrl.trim());
    add(u.href);
    add(`${u.host}${u.pathname}`);
    add(u.pathname);
    add(u.search.slice(1));
    const segments = u.pathname.split('/').filter(Boolean);
    // `/services/T…/B…/<secret>`: everything after `services` is secret.
    for (let i = 1; i < segments.length; i++) add(segments.slice(i).join('/'));
    add(segments.at(-1));
  } catch {
    // not a URL: the whole string is the secret
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every secret part of the webhook URL replaced. */
export function redactWebhook(text: string, webhookUrl: string): string {
  let t = text;
  for (const s of secretsOf(webhookUrl)) t = t.split(s).join('[redacted]');
  for (const s of secretsOf(webhookUrl)) t = t.split(encodeURIComponent(s)).join('[redacted]');
  return t;
}

/** The message of an error and of its causes, one after the other. */
function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(`${e.message}${typeof code === 'string' && !e.message.includes(code) ? ` (${code})` : ''}`);
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.filter(Boolean).join(': ') || 'unknown error';
}

/** What Slack's error codes mean, for the message of a refusal. */
const SLACK_ERRORS: Record<string, string> = {
  invalid_payload: 'the message was malformed',
  invalid_blocks: 'a block of the message was invalid',
  invalid_blocks_format: 'the blocks of the message were malformed',
  no_text: 'the message had no text',
  too_many_attachments: 'the message had too many attachments',
  no_service: 'the webhook does not exist or was revoked; check the configured webhook URL',
  no_service_id: 'the webhook URL is incomplete; check the configured webhook URL',
  no_team: 'the Slack workspace of the webhook no longer exists',
  team_disabled: 'the Slack workspace of the webhook is disabled',
  invalid_token: 'the webhook is not valid; check the configured webhook URL',
  action_prohibited: "the workspace's admin has restricted this webhook",
  channel_not_found: "the webhook's channel no longer exists",
  channel_is_archived: "the webhook's channel is archived",
  posting_to_general_channel_denied: "the webhook may not post to the workspace's general channel",
};

// ---------------------------------------------------------------------------------------
// Activities

export function createNotifyActivities(deps: NotifyDeps) {
  const log = deps.log ?? STDERR_LOG;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const timeoutMs = deps.slackTimeoutMs ?? 10_000;
  const environmentName = deps.github?.environmentName ?? ((app: string, env: string) => `${env}-${app}`);

  async function postToSlack(cfg: SlackNotifyConfig, body: string, signal?: AbortSignal): Promise<void> {
    const redact = (t: string) => redactWebhook(t, cfg.webhookUrl);
    let url: URL;
    try {
      url = new URL(cfg.webhookUrl.trim());
    } catch {
      throw new BadInput('the Slack webhook URL is not a valid URL; check the configured webhook');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new BadInput(`the Slack webhook URL must be an https URL, not ${redact(url.protocol)}`);
    }

    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let answer: string;
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: signals,
        redirect: 'error',
      });
      answer = (await res.text()).trim();
    } catch (err) {
      if (timeout.aborted) throw new NotificationUnavailable(`Slack did not answer within ${timeoutMs / 1000}s`);
      throw new NotificationUnavailable(`Slack could not be reached: ${redact(describeError(err))}`);
    }

    const said = redact(answer.slice(0, 200));
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after'));
      const wait = Number.isFinite(after) && after > 0 ? after : undefined;
      throw new NotificationUnavailable(`Slack rate-limited the webhook (429${said ? ` ${said}` : ''})${wait ? `; retry after ${wait}s` : ''}`, wait);
    }
    if (res.status >= 500) {
      throw new NotificationUnavailable(`Slack answered ${res.status}${said ? ` ${said}` : ''}`);
    }
    const meaning = SLACK_ERRORS[answer];
    throw new ClientRejected(`Slack refused the message (${res.status}${said ? ` ${said}` : ''})${meaning ? `: ${meaning}` : ''}`);
  }

  /** Deployments of `ref` in `environment` made by the execution at `executionUrl`, newest first. */
  async function findDeployment(gh: GitHubNotifyConfig, ref: string, environment: string, executionUrl: string, signal?: AbortSignal): Promise<number | undefined> {
    const res = await gh.octokit.rest.repos.listDeployments({
      owner: gh.owner,
      repo: gh.repo,
      ref,
      environment,
      per_page: 100,
      request: { signal },
    });
    for (const d of res.data) {
      let payload: unknown = d.payload;
      if (typeof payload === 'string') {
        try {
          payload = JSON.parse(payload);
        } catch {
          continue;
        }
      }
      if (payload && typeof payload === 'object' && (payload as Record<string, unknown>)[EXECUTION_MARKER] === executionUrl) return d.id;
    }
    return undefined;
  }

  return {
    /**
     * Posts the event's message to the Slack webhook. Retryable `NotificationUnavailable`
     * on 429/5xx/timeout/network, `ClientRejected` on other 4xx; the webhook URL appears
     * in no error.
     */
    async notifySlack(event: NotifyEvent): Promise<SlackResult> {
      const cfg = deps.slack;
      if (!cfg?.webhookUrl) return { sent: false, skipped: 'no Slack webhook is configured' };
      const message = slackMessage(event, cfg.slackIds ?? {}, { maintainersMention: cfg.maintainersMention });
      const body = JSON.stringify(message);
      const what = `${event.kind} ${event.phase} of ${event.app}${event.env ? ` ${event.env}` : ''}`;
      try {
        await withHeartbeat((signal) => postToSlack(cfg, body, signal));
      } catch (err) {
        log.warn(`Slack notification (${what}) not sent: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
      log.info(`Slack notification sent (${what})`);
      return { sent: true };
    },

    /**
     * Records the event as a GitHub deployment of the configured repository: `started`
     * creates the deployment (or finds the one this execution already created) and marks
     * it `in_progress`; `succeeded` / `failed` post the final status, linking the execution.
     * Posting a status the deployment already has is skipped, so retries add nothing.
     */
    async githubDeployment(input: GitHubDeploymentInput): Promise<GitHubDeploymentResult> {
      const gh = deps.github;
      if (!gh) return { skipped: 'GitHub deployments are not configured' };
      if (!input.env) return { skipped: `a ${input.kind} of ${input.app} has no environment to record a deployment in` };
      const env = input.env;
      const environment = environmentName(input.app, env);
      const ref = input.ref ?? input.tag;
      const state = githubDeploymentState(input);
      const description = githubDeploymentDescription(input);
      const where = `${gh.owner}/${gh.repo}`;

      return withHeartbeat(async (signal) => {
        let deploymentId = input.deploymentId;
        try {
          deploymentId ??= await findDeployment(gh, ref, environment, input.executionUrl, signal);
        } catch (err) {
          rethrowGitHub(err, `looking for the ${environment} deployment of ${ref} in ${where}`, { tokenNeeds: DEPLOYMENTS_TOKEN });
        }

        if (deploymentId === undefined) {
          try {
            const res = await gh.octokit.rest.repos.createDeployment({
              owner: gh.owner,
              repo: gh.repo,
              ref,
              environment,
              task: 'deploy',
              auto_merge: false,
              required_contexts: [],
              transient_environment: false,
              production_environment: env === 'production',
              description,
              payload: {
                kind: input.kind,
                app: input.app,
                env,
                tag: input.tag,
                actor: input.actor.replace(/^@/, ''),
                ...(input.releaseName ? { release: input.releaseName } : {}),
                [EXECUTION_MARKER]: input.executionUrl,
              },
              request: { signal },
            });
            if (!('id' in res.data)) {
              throw new ClientRejected(`creating the ${environment} deployment of ${ref} in ${where}: GitHub did not create it (${res.data.message ?? res.status})`);
            }
            deploymentId = res.data.id;
            log.info(`GitHub deployment ${deploymentId} created (${environment}, ${ref})`);
          } catch (err) {
            rethrowGitHub(err, `creating the ${environment} deployment of ${ref} in ${where}`, {
              tokenNeeds: DEPLOYMENTS_TOKEN,
              notFound: `creating the ${environment} deployment of ${ref}: repository ${where} not found, or GITHUB_TOKEN cannot see it`,
            });
          }
        }

        const id = deploymentId;
        try {
          const latest = await gh.octokit.rest.repos.listDeploymentStatuses({
            owner: gh.owner,
            repo: gh.repo,
            deployment_id: id,
            per_page: 1,
            request: { signal },
          });
          if (latest.data[0]?.state === state) return { deploymentId: id };
          await gh.octokit.rest.repos.createDeploymentStatus({
            owner: gh.owner,
            repo: gh.repo,
            deployment_id: id,
            state,
            description,
            log_url: input.executionUrl,
            ...(input.environmentUrl ? { environment_url: input.environmentUrl } : {}),
            request: { signal },
          });
        } catch (err) {
          rethrowGitHub(err, `setting GitHub deployment ${id} (${environment}) to ${state}`, {
            tokenNeeds: DEPLOYMENTS_TOKEN,
            notFound: `GitHub deployment ${id} was not found in ${where}`,
          });
        }
        log.info(`GitHub deployment ${id} is ${state} (${environment})`);
        return { deploymentId: id };
      });
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
