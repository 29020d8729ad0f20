/**
 * The worker's ECS event consumer: long-polls the SQS queue an EventBridge rule fills with
 * ECS's events (docs/ecs-events.md) and hands each event to the deploy watching its service,
 * as the `ecsEvent` signal to `deploy/<app>/<env>`. One consumer per worker process (a few
 * receives in flight at once); any number of workers may share the queue, because the signal
 * reaches the workflow whichever worker runs it.
 *
 * At least once, never lost: a message is deleted only once its event was delivered (or is
 * about no running deploy, or not about a service Slipway deploys). A message whose signal
 * failed stays, and SQS hands it out again after its visibility timeout, to this or another
 * worker. The workflow drops redeliveries by the event's ID, so routing is idempotent.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { deployWorkflowId, ecsEventSignal, type EcsEventNotice } from '../contract';
import { targetOfService, type SlipwayConfig } from '../domain/config';
import { parseEcsEvent } from '../domain/ecs-events';

export interface EcsEventLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface EcsEventConsumerOptions {
  client: Client;
  config: () => SlipwayConfig;
  log: EcsEventLog;
  /** The SQS client; default: one for `aws.events` (region and endpoint from the config). */
  sqs?: SQSClient;
  /** Long-poll wait per receive, in seconds (SQS allows 0–20; default 20). */
  waitSeconds?: number;
  /** How long a received message stays hidden before SQS hands it out again (default 30 s). */
  visibilitySeconds?: number;
  /**
   * Receives in flight at once (default 3). One receive takes at most 10 messages and the next
   * starts once they are routed; more receivers keep up when a whole fleet's events arrive
   * together. An idle receiver is one long poll every `waitSeconds`.
   */
  receivers?: number;
}

const DEFAULT_RECEIVERS = 3;

export interface EcsEventStats {
  received: number;
  /** Signalled to a running deploy. */
  delivered: number;
  /** About no running deploy, or no service of the config, or not an event a watch uses: deleted. */
  unrouted: number;
  /** Delivery failed: left for SQS to hand out again. */
  retried: number;
  receiveErrors: number;
}

export class EcsEventConsumer {
  readonly stats: EcsEventStats = { received: 0, delivered: 0, unrouted: 0, retried: 0, receiveErrors: 0 };
  private readonly sqs: SQSClient;
  private readonly queueUrl: string;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: EcsEventConsumerOptions) {
    const config = opts.config();
    if (!config.aws.events) throw new Error('aws.events is not configured: there is no queue to read ECS events from');
    this.queueUrl = config.aws.events.queueUrl;
    this.sqs =
      opts.sqs ??
      new SQSClient({
        region: config.aws.region,
        ...(config.aws.events.endpoint !== undefined && { endpoint: config.aws.events.endpoint }),
        ...(config.aws.events.endpoint !== undefined && !process.env.AWS_ACCESS_KEY_ID && { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } }),
      });
  }

  start(): this {
    this.loop ??= Promise.all(Array.from({ length: Math.max(1, this.opts.receivers ?? DEFAULT_RECEIVERS) }, () => this.run())).then(() => undefined);
    return this;
  }

  /** Stops receiving; messages in hand are finished (delivered and deleted, or left). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.sqs.destroy();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      let messages: Message[];
      try {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.opts.waitSeconds ?? 20,
            VisibilityTimeout: this.opts.visibilitySeconds ?? 30,
          }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
        failures = 0;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.stats.receiveErrors++;
        failures++;
        this.opts.log.warn('cannot read ECS events from SQS; trying again', { queueUrl: this.queueUrl, error: err instanceof Error ? err.message : String(err) });
        await pause(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), this.abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      this.stats.received += messages.length;
      const done = await Promise.all(messages.map(async (m) => ((await this.route(m)) ? m : undefined)));
      const entries = done.filter((m): m is Message => m?.ReceiptHandle !== undefined).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
      if (entries.length === 0) continue;
      try {
        await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      } catch (err) {
        // Not deleted: the events come again, and the workflows drop them by ID.
        this.opts.log.warn('cannot delete routed ECS events from SQS; they will be delivered again', { error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** Delivers one message's event; true when the message is done with (delete it). */
  private async route(m: Message): Promise<boolean> {
    const parsed = parseEcsEvent(m.Body ?? '');
    if ('skip' in parsed) {
      this.stats.unrouted++;
      return true;
    }
    const config = this.opts.config();
    const target = parsed.region === config.aws.region ? this.targetOf(config, parsed.cluster, parsed.service) : undefined;
    if (!target) {
      this.stats.unrouted++;
      return true;
    }
    const notice: EcsEventNotice = { ...parsed.notice, routedAt: new Date().toISOString() };
    try {
      await this.opts.client.workflow.getHandle(deployWorkflowId(target.app, target.env)).signal(ecsEventSignal, notice);
      this.stats.delivered++;
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // No deploy of that service runs: nobody is waiting for this event.
        this.stats.unrouted++;
        return true;
      }
      this.stats.retried++;
      this.opts.log.warn('cannot deliver an ECS event; SQS will hand it out again', {
        event: notice.id,
        name: notice.name,
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    }
  }

  private targetOf(config: SlipwayConfig, cluster: string | undefined, service: string): { app: string; env: string } | undefined {
    if (cluster !== undefined) return targetOfService(config, cluster, service);
    // An old-format service ARN names no cluster: the service name must then be unambiguous.
    const matches = Object.values(config.apps).flatMap((a) =>
      Object.entries(a.environments)
        .filter(([, e]) => e.service === service)
        .map(([env]) => ({ app: a.name, env })),
    );
    return matches.length === 1 ? matches[0] : undefined;
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
