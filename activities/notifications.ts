/**
 * The notification activities the workflows call: they add the link to the execution
 * (from the activity's own workflow and the config's Temporal UI URL) and pick the sinks
 * the config enables. Secrets (the webhook URL, the token) come from the worker's
 * environment and never travel through workflow inputs.
 */
import type { Octokit } from '@octokit/rest';
import { Context } from '@temporalio/activity';
import type { SlipwayConfig } from '../domain/config';
import type { NotifyEvent } from '../domain/notify';
import { executionUrl } from '../domain/temporal-ui';
import { createNotifyActivities, type GitHubDeploymentResult, type SlackResult } from './notify';

export type NotifyRequest = Omit<NotifyEvent, 'executionUrl'>;

export interface NotificationDeps {
  config: () => SlipwayConfig;
  env: NodeJS.ProcessEnv;
  github?: Octokit;
  fetch?: typeof fetch;
}

export function createNotificationActivities(deps: NotificationDeps) {
  const sinks = () => {
    const cfg = deps.config();
    const slack = cfg.notifications.slack;
    const webhookUrl = slack ? deps.env[slack.webhookUrlEnv] : undefined;
    return createNotifyActivities({
      fetch: deps.fetch,
      log: Context.current().log,
      slack: slack && webhookUrl ? { webhookUrl, slackIds: slack.users, maintainersMention: slack.maintainersMention } : undefined,
      github: cfg.notifications.githubDeployments && deps.github && cfg.github ? { octokit: deps.github, owner: cfg.github.owner, repo: cfg.github.repo } : undefined,
    });
  };
  const link = () => {
    const cfg = deps.config();
    const execution = Context.current().info.workflowExecution;
    if (!execution) return cfg.temporal.uiUrl;
    const { workflowId, runId } = execution;
    return executionUrl({ uiUrl: cfg.temporal.uiUrl, namespace: cfg.temporal.namespace }, workflowId, runId);
  };
  return {
    /** Posts the event to Slack, when a webhook is configured (skipped otherwise). */
    async notifySlack(event: NotifyRequest): Promise<SlackResult> {
      return sinks().notifySlack({ ...event, executionUrl: link() });
    },
    /** Creates or updates the GitHub deployment of the event, when enabled (skipped otherwise). */
    async recordGitHubDeployment(event: NotifyRequest & { deploymentId?: number; environmentUrl?: string }): Promise<GitHubDeploymentResult> {
      return sinks().githubDeployment({ ...event, executionUrl: link() });
    },
  };
}
