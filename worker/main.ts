/**
 * The Slipway worker process.
 *
 *   SLIPWAY_CONFIG=config/openverse.yaml tsx worker/main.ts
 *
 * Environment: SLIPWAY_CONFIG (config file), SLIPWAY_TASK_QUEUE (default: the config's
 * temporal.taskQueue, else "slipway"; the worker also polls its ECS task queues
 * `<taskQueue>-ecs-register`, `-ecs-update` and `-ecs-read`), SLIPWAY_METRICS_BIND (e.g. 0.0.0.0:9464: Prometheus
 * metrics at /metrics), SLIPWAY_OTEL_METRICS_URL (an OTLP/gRPC collector, e.g.
 * http://otel-collector:4317, instead of Prometheus), SLIPWAY_LOG_LEVEL (DEBUG|INFO|WARN|ERROR), SLIPWAY_WORKFLOW_BUNDLE
 * (a prebuilt bundle from `npm run bundle`), SLIPWAY_GATE_TASK_QUEUE (also serve the Playwright
 * gate's activities on this task queue: for workers that have a browser), SLIPWAY_POLL_MIN_MS / SLIPWAY_POLL_MAX_MS (bounds
 * of the adaptive ECS poll interval, default 1000 / 1500), SLIPWAY_MAX_CACHED_WORKFLOWS (workflows kept in
 * memory between their tasks; default: sized by the SDK from the heap limit), and the Temporal connection variables listed
 * in client/temporal-env.ts.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../domain/config-file';
import { HISTOGRAM_BUCKETS } from '../domain/metrics';
import { temporalSettings, unreachableMessage } from '../client/temporal-env';
import { DEFAULT_TASK_QUEUE } from '../contract';
import { ecsTaskQueues } from '../domain/ecs-queues';
import { createGateWorker, createWorker, startEcsEvents, wiringProblems } from './create';

async function main(): Promise<void> {
  const level = (process.env.SLIPWAY_LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel;
  const metricsBind = process.env.SLIPWAY_METRICS_BIND;
  const otelMetricsUrl = process.env.SLIPWAY_OTEL_METRICS_URL;
  Runtime.install({
    // Structured logs: one JSON object per line on stdout.
    logger: new DefaultLogger(level, ({ level, message, meta, timestampNanos }) => logLine(level, message, meta, new Date(Number(timestampNanos / 1_000_000n)))),
    telemetryOptions: metricsBind
      ? { metrics: { prometheus: { bindAddress: metricsBind, histogramBucketOverrides: HISTOGRAM_BUCKETS } } }
      : otelMetricsUrl
        ? { metrics: { otel: { url: otelMetricsUrl, histogramBucketOverrides: HISTOGRAM_BUCKETS } } }
        : undefined,
  });

  const configPath = process.env.SLIPWAY_CONFIG ?? 'slipway.yaml';
  const config = loadConfig(configPath);
  const problems = wiringProblems(config, process.env);
  if (problems.length) throw new Error(`cannot start: ${problems.join('; ')}`);
  const t = temporalSettings(process.env, config.temporal);
  // Links in notifications use the namespace and UI the worker really runs with.
  config.temporal = { ...config.temporal, namespace: t.namespace, uiUrl: t.uiUrl };
  const reach = <T>(connect: Promise<T>): Promise<T> =>
    connect.catch((err: unknown) => {
      throw new Error(unreachableMessage(t, err));
    });
  const connection = await reach(NativeConnection.connect({ address: t.address, tls: t.tls, apiKey: t.apiKey, metadata: t.metadata }));
  const clientConnection = await reach(Connection.connect({ address: t.address, tls: t.tls, apiKey: t.apiKey, metadata: t.metadata }));
  const client = new Client({ connection: clientConnection, namespace: t.namespace });
  const taskQueue = process.env.SLIPWAY_TASK_QUEUE || config.temporal?.taskQueue || DEFAULT_TASK_QUEUE;
  const bundlePath = process.env.SLIPWAY_WORKFLOW_BUNDLE;
  const worker = await createWorker({
    connection,
    client,
    namespace: t.namespace,
    taskQueue,
    config: () => config,
    workflowBundle: bundlePath ? { codePath: bundlePath } : undefined,
    pollMinMs: numberEnv('SLIPWAY_POLL_MIN_MS'),
    pollMaxMs: numberEnv('SLIPWAY_POLL_MAX_MS'),
    ecsBudget: process.env.SLIPWAY_ECS_BUDGET !== 'off',
    ecsBudgetTimeScale: numberEnv('SLIPWAY_ECS_BUDGET_TIME_SCALE'),
    workerOptions: workerTuning(),
  });
  Runtime.instance().logger.info('slipway worker started', {
    address: t.address,
    namespace: t.namespace,
    taskQueue,
    ecsTaskQueues: ecsTaskQueues(taskQueue),
    config: configPath,
    metrics: metricsBind ? `http://${metricsBind}/metrics` : otelMetricsUrl ? `otlp ${otelMetricsUrl}` : 'off',
  });
  // Optionally also the Playwright gate's activities, on their own task queue.
  const gateQueue = process.env.SLIPWAY_GATE_TASK_QUEUE;
  const gate = gateQueue ? await createGateWorker({ connection, namespace: t.namespace, taskQueue: gateQueue, config: () => config }) : undefined;
  if (gate) Runtime.instance().logger.info('slipway gate worker started', { taskQueue: gateQueue });
  // ECS's events, when the config has a queue for them: one consumer per worker process.
  const events = startEcsEvents({ client, config: () => config });
  if (events) Runtime.instance().logger.info('reading ECS events', { queueUrl: config.aws.events?.queueUrl });
  await Promise.all([worker.run(), gate?.run()]);
  await events?.stop();
  await clientConnection.close();
  await connection.close();
}

/** Worker tuning from the environment: SLIPWAY_MAX_CACHED_WORKFLOWS (workflows kept in memory between their tasks). */
function workerTuning(): { maxCachedWorkflows?: number } {
  const cached = numberEnv('SLIPWAY_MAX_CACHED_WORKFLOWS');
  return cached !== undefined ? { maxCachedWorkflows: Math.floor(cached) } : {};
}

function numberEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${v} is not a positive number`);
  return n;
}

/** One log line: a JSON object on stdout. */
function logLine(level: string, message: string, meta?: Record<string, unknown>, at = new Date()): void {
  process.stdout.write(`${JSON.stringify({ time: at.toISOString(), level, message, ...meta })}\n`);
}

main().catch((err: unknown) => {
  logLine('ERROR', `slipway worker stopped: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
