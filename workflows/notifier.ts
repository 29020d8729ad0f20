/**
 * Tells people what happens: start, success and failure of an operation go to Slack and
 * to GitHub deployment statuses (whichever the config enables). Notifications run beside
 * the operation and never fail it, nor hold its outcome back: each notice is tried once
 * in line; one that could not be sent is handed to a `notification` workflow of its own
 * that keeps retrying after the operation has ended, and the operation's progress says so.
 */
import { ActivityFailure, ApplicationFailure, ParentClosePolicy, patched, proxyActivities, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotifyRequest } from '../activities/notifications';
import { NON_RETRYABLE } from '../domain/errors';
import { SA } from '../contract';
import { PATCH_NOTIFY_ASIDE } from './patches';
import { notify, notifyOnce } from './profiles';

/** The retries in line (operations started before notices were handed aside), and the notification workflow. */
const retried = proxyActivities<Activities>(notify);
/** One attempt in line: a notification service that is down costs the operation one answer, not its retries. */
const once = proxyActivities<Activities>(notifyOnce);

export type NotifyBase = Omit<NotifyRequest, 'phase' | 'outcome' | 'failure' | 'stoppedReasons'>;

type Sink = 'slack' | 'github';
type GitHubNotice = NotifyRequest & { deploymentId?: number };

/** What a `notification` workflow delivers. */
export interface NotificationInput {
  sink: Sink;
  event: GitHubNotice;
  /** The operation that could not send it at first. */
  for: string;
}

const SINK_NAME: Record<Sink, string> = { slack: 'Slack', github: 'GitHub deployment' };

export class Notifier {
  private pending: Promise<void>[] = [];
  private deployment: Promise<number | undefined> = Promise.resolve(undefined);
  private readonly aside = patched(PATCH_NOTIFY_ASIDE);
  private handedAside = 0;

  /** `report` receives one line per notification that could not be sent. */
  constructor(
    private readonly base: NotifyBase,
    private readonly report: (line: string) => void,
  ) {}

  started(): void {
    const event: NotifyRequest = { ...this.base, phase: 'started' };
    this.pending.push(this.send('slack', event).then(() => undefined));
    this.deployment = this.send('github', event).then((r) => (r as { deploymentId?: number } | undefined)?.deploymentId);
    this.pending.push(this.deployment.then(() => undefined));
  }

  succeeded(extra: Partial<NotifyRequest> = {}): Promise<void> {
    return this.finish({ ...this.base, ...extra, phase: 'succeeded' });
  }

  failed(outcome: string, failure: string, stoppedReasons: string[] = []): Promise<void> {
    return this.finish({ ...this.base, phase: 'failed', outcome, failure, stoppedReasons });
  }

  private async finish(event: NotifyRequest): Promise<void> {
    this.pending.push(this.send('slack', event).then(() => undefined));
    const deploymentId = await this.deployment;
    this.pending.push(this.send('github', { ...event, deploymentId }).then(() => undefined));
    await Promise.all(this.pending);
  }

  /** Sends one notice; never throws. Resolves with the activity's answer, or undefined when not sent (yet). */
  private async send(sink: Sink, event: GitHubNotice): Promise<unknown> {
    const what = SINK_NAME[sink];
    const acts = this.aside ? once : retried;
    try {
      return await (sink === 'slack' ? acts.notifySlack(event) : acts.recordGitHubDeployment(event));
    } catch (err) {
      if (!this.aside || !retryable(err)) {
        this.report(`notification not sent (${what}): ${messageOf(err)}`);
        return undefined;
      }
    }
    // Retries run in a workflow of their own, which outlives this operation if need be.
    const { workflowId, runId } = workflowInfo();
    const id = `notify/${workflowId}/${runId}/${++this.handedAside}`;
    try {
      await startChild(notification, {
        workflowId: id,
        args: [{ sink, event, for: workflowId }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `${what} notice of ${workflowId} (${event.phase})`,
      });
      this.report(`notification not sent yet (${what}): retried in the background by workflow ${id}`);
    } catch (err) {
      this.report(`notification not sent (${what}): ${messageOf(err)}`);
    }
    return undefined;
  }
}

/**
 * Delivers one notice that its operation could not send at first, with the notification
 * retries. A notice that is never delivered ends this workflow failed, saying why.
 */
export async function notification(input: NotificationInput): Promise<void> {
  upsertSearchAttributes([
    { key: SA.operation, value: 'notification' },
    { key: SA.outcome, value: 'running' },
  ]);
  try {
    if (input.sink === 'slack') await retried.notifySlack(input.event);
    else await retried.recordGitHubDeployment(input.event);
  } catch (err) {
    upsertSearchAttributes([{ key: SA.outcome, value: 'failed' }]);
    throw ApplicationFailure.create({
      type: 'NotificationNotSent',
      message: `notification not sent (${SINK_NAME[input.sink]}) for ${input.for}: ${messageOf(err)}`,
      nonRetryable: true,
    });
  }
  upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
}

function retryable(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return !(cause instanceof ApplicationFailure && (cause.nonRetryable || (NON_RETRYABLE as readonly string[]).includes(cause.type ?? '')));
}

function messageOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
}
