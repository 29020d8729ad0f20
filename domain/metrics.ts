/**
 * Slipway's own metrics: their names, labels and histogram buckets, in one place for the
 * workflows, the activities and the worker (which exports them with the Temporal
 * runtime's metrics: Prometheus at SLIPWAY_METRICS_BIND, or OTLP). docs/observability.md
 * shows alerts and a Grafana panel over them.
 */

export const METRICS = {
  /** Counter: finished operations. Labels app, env, operation, outcome (and the SDK's namespace, taskQueue, workflowType). */
  operations: 'slipway_operations',
  /** Histogram (s): start to end of each deploy workflow. Labels app, env, operation, outcome. */
  deployDuration: 'slipway_deploy_duration_seconds',
  /** Histogram (s): from ECS finishing a service deployment to Slipway seeing it. Labels app, env, outcome. */
  detectionLatency: 'slipway_detection_latency_seconds',
  /** Gauge: merges waiting in an app's pipeline queue. Label app. */
  pipelineQueueLength: 'slipway_pipeline_queue_length',
  /** Gauge: candidates awaiting approval (0 or 1 per app). Label app. */
  pipelineAwaitingApproval: 'slipway_pipeline_awaiting_approval',
  /** Gauge: Unix time (s) since which the candidate awaits approval, 0 when none: age = time() - value. Label app. */
  pipelineAwaitingApprovalSince: 'slipway_pipeline_awaiting_approval_since_seconds',
  /** Counter: ECS API requests (each attempt). Labels category, api. */
  ecsCalls: 'slipway_ecs_calls',
  /** Counter: ECS API requests answered with a throttling error. Labels category, api. */
  ecsThrottles: 'slipway_ecs_throttles',
} as const;

/** Bucket boundaries of the histograms (seconds), for the metrics exporter. */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [METRICS.deployDuration]: [30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 3600],
  [METRICS.detectionLatency]: [0.25, 0.5, 1, 2, 3, 5, 10, 15, 30, 60, 120],
};

/**
 * ECS API actions by throttling category (ECS applies its request quotas per group of
 * actions, e.g. "cluster read actions"): reads and writes of services, task definitions,
 * tasks and clusters, and tagging. Unknown actions are `other`.
 */
const ECS_CATEGORIES: Record<string, string[]> = {
  service_read: ['DescribeServices', 'ListServices', 'ListServicesByNamespace', 'ListServiceDeployments', 'DescribeServiceDeployments', 'DescribeServiceRevisions'],
  service_write: ['CreateService', 'UpdateService', 'DeleteService', 'StopServiceDeployment', 'ContinueServiceDeployment'],
  task_definition_read: ['DescribeTaskDefinition', 'ListTaskDefinitions', 'ListTaskDefinitionFamilies'],
  task_definition_write: ['RegisterTaskDefinition', 'DeregisterTaskDefinition', 'DeleteTaskDefinitions'],
  task_read: ['DescribeTasks', 'ListTasks'],
  task_write: ['RunTask', 'StartTask', 'StopTask'],
  cluster_read: ['DescribeClusters', 'ListClusters'],
  tagging: ['TagResource', 'UntagResource', 'ListTagsForResource'],
};
const CATEGORY_OF = new Map(Object.entries(ECS_CATEGORIES).flatMap(([category, actions]) => actions.map((a) => [a, category] as const)));

/** The throttling category of an ECS action (`DescribeServices` or `DescribeServicesCommand`). */
export function ecsCallCategory(action: string): string {
  return CATEGORY_OF.get(action.replace(/Command$/, '')) ?? 'other';
}

const THROTTLING_ERRORS = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** Whether an AWS SDK error is a throttling answer (by error name, or HTTP 429). */
export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return THROTTLING_ERRORS.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
}
