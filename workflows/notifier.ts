/**
 * Tells people what happens: start, success and failure of an operation go to Slack and
 * to GitHub deployment statuses (whichever the config enables). Notifications run beside
 * the operation and never fail it: a notification that cannot be sent is retried, then
 * reported in the operation's progress.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NotifyRequest } from '../activities/notifications';
import { notify } from './profiles';

const { notifySlack, recordGitHubDeployment } = proxyActivities<Activities>(notify);

export type NotifyBase = Omit<NotifyRequest, 'phase' | 'outcome' | 'failure' | 'stoppedReasons'>;

export class Notifier {
  private pending: Promise<void>[] = [];
  private deployment: Promise<number | undefined> = Promise.resolve(undefined);

  /** `report` receives one line per notification that could not be sent. */
  constructor(
    private readonly base: NotifyBase,
    private readonly report: (line: string) => void,
  ) {}

  started(): void {
    const event: NotifyRequest = { ...this.base, phase: 'started' };
    this.pending.push(this.guard('Slack', notifySlack(event)));
    this.deployment = recordGitHubDeployment(event).then(
      (r) => r.deploymentId,
      (err) => {
        this.report(`notification not sent (GitHub deployment): ${messageOf(err)}`);
        return undefined;
      },
    );
    this.pending.push(this.deployment.then(() => undefined));
  }

  succeeded(extra: Partial<NotifyRequest> = {}): Promise<void> {
    return this.finish({ ...this.base, ...extra, phase: 'succeeded' });
  }

  failed(outcome: string, failure: string, stoppedReasons: string[] = []): Promise<void> {
    return this.finish({ ...this.base, phase: 'failed', outcome, failure, stoppedReasons });
  }

  private async finish(event: NotifyRequest): Promise<void> {
    this.pending.push(this.guard('Slack', notifySlack(event)));
    const deploymentId = await this.deployment;
    this.pending.push(this.guard('GitHub deployment status', recordGitHubDeployment({ ...event, deploymentId })));
    await Promise.all(this.pending);
  }

  private guard(what: string, p: Promise<unknown>): Promise<void> {
    return p.then(
      () => undefined,
      (err) => this.report(`notification not sent (${what}): ${messageOf(err)}`),
    );
  }
}

function messageOf(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
}
