/**
 * A service's deploymentConfiguration as the sandbox keeps it: request checks (with ECS's
 * field names, enums and ranges) and the wire shape DescribeServices and
 * DescribeServiceDeployments answer with.
 */
import type { DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookStage, DeploymentStrategy, ServiceRevisionCleanup } from '@aws-sdk/client-ecs';
import { EcsError, type Wire, clone, isObject } from './common';

/** Circuit breaker settings of a service. */
export interface CircuitBreaker {
  enable: boolean;
  rollback: boolean;
}

export interface AlarmsConfig {
  alarmNames: string[];
  enable: boolean;
  rollback: boolean;
}

/** Everything the simulator models of a deploymentConfiguration. */
export interface ServiceDeploymentSettings {
  breaker: CircuitBreaker;
  maximumPercent: number;
  minimumHealthyPercent: number;
  strategy: DeploymentStrategy;
  bakeTimeInMinutes: number;
  lifecycleHooks: Wire<DeploymentLifecycleHook>[];
  linear?: { stepPercent: number; stepBakeTimeInMinutes: number };
  canary?: { canaryPercent: number; canaryBakeTimeInMinutes: number };
  alarms: AlarmsConfig;
  /** ROLLING only: complete once this share of the desired tasks is healthy (earlySuccessCriteria). */
  earlySuccess?: { healthyPercent: number; cleanup: ServiceRevisionCleanup };
}

export const STRATEGIES: readonly DeploymentStrategy[] = ['ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY'];
export const HOOK_STAGES: readonly DeploymentLifecycleHookStage[] = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
];

export function defaultSettings(): ServiceDeploymentSettings {
  return {
    breaker: { enable: false, rollback: false },
    maximumPercent: 200,
    minimumHealthyPercent: 100,
    strategy: 'ROLLING',
    bakeTimeInMinutes: 0,
    lifecycleHooks: [],
    alarms: { alarmNames: [], enable: false, rollback: false },
  };
}

/** The wire shape of the settings. */
export function renderSettings(s: ServiceDeploymentSettings): Wire<DeploymentConfiguration> {
  return {
    deploymentCircuitBreaker: { enable: s.breaker.enable, rollback: s.breaker.rollback },
    maximumPercent: s.maximumPercent,
    minimumHealthyPercent: s.minimumHealthyPercent,
    alarms: clone(s.alarms),
    strategy: s.strategy,
    ...(s.strategy !== 'ROLLING' ? { bakeTimeInMinutes: s.bakeTimeInMinutes } : {}),
    ...(s.lifecycleHooks.length ? { lifecycleHooks: clone(s.lifecycleHooks) } : {}),
    ...(s.strategy === 'LINEAR' && s.linear ? { linearConfiguration: { ...s.linear } } : {}),
    ...(s.strategy === 'CANARY' && s.canary ? { canaryConfiguration: { ...s.canary } } : {}),
    ...(s.earlySuccess ? { earlySuccessCriteria: { enable: true, healthyPercent: s.earlySuccess.healthyPercent, sourceServiceRevisionCleanup: s.earlySuccess.cleanup } } : {}),
  };
}

/**
 * Reads a request's deploymentConfiguration into changes to `current` (fields not given
 * keep their value). Throws InvalidParameterException naming the field.
 */
export function applyDeploymentConfiguration(current: ServiceDeploymentSettings, value: unknown): ServiceDeploymentSettings {
  if (value === undefined || value === null) return current;
  if (!isObject(value)) throw invalid('deploymentConfiguration must be an object.');
  const out: ServiceDeploymentSettings = clone(current);
  const cb = value.deploymentCircuitBreaker;
  if (cb !== undefined) {
    if (!isObject(cb) || typeof cb.enable !== 'boolean' || typeof cb.rollback !== 'boolean') {
      throw invalid('deploymentCircuitBreaker requires enable and rollback.');
    }
    out.breaker = { enable: cb.enable, rollback: cb.rollback };
  }
  if (value.maximumPercent !== undefined) out.maximumPercent = integer(value.maximumPercent, 'maximumPercent', 100, 200);
  if (value.minimumHealthyPercent !== undefined) out.minimumHealthyPercent = integer(value.minimumHealthyPercent, 'minimumHealthyPercent', 0, 100);
  if (value.strategy !== undefined) {
    if (!STRATEGIES.includes(value.strategy as DeploymentStrategy)) {
      throw invalid(`Invalid strategy: ${String(value.strategy)}. Valid values: ${STRATEGIES.join(', ')}.`);
    }
    out.strategy = value.strategy as DeploymentStrategy;
  }
  if (value.bakeTimeInMinutes !== undefined) out.bakeTimeInMinutes = integer(value.bakeTimeInMinutes, 'bakeTimeInMinutes', 0, 1440);
  if (value.alarms !== undefined) {
    const a = value.alarms;
    if (!isObject(a) || !Array.isArray(a.alarmNames) || typeof a.enable !== 'boolean' || typeof a.rollback !== 'boolean') {
      throw invalid('alarms requires alarmNames, enable and rollback.');
    }
    out.alarms = { alarmNames: a.alarmNames.map(String), enable: a.enable, rollback: a.rollback };
  }
  if (value.lifecycleHooks !== undefined) {
    if (!Array.isArray(value.lifecycleHooks)) throw invalid('lifecycleHooks must be a list.');
    out.lifecycleHooks = value.lifecycleHooks.map(hook);
  }
  if (value.linearConfiguration !== undefined) {
    const l = value.linearConfiguration;
    if (!isObject(l)) throw invalid('linearConfiguration must be an object.');
    out.linear = {
      stepPercent: percent(l.stepPercent ?? 10, 'linearConfiguration.stepPercent', 3),
      stepBakeTimeInMinutes: integer(l.stepBakeTimeInMinutes ?? 6, 'linearConfiguration.stepBakeTimeInMinutes', 0, 1440),
    };
  }
  if (value.canaryConfiguration !== undefined) {
    const c = value.canaryConfiguration;
    if (!isObject(c)) throw invalid('canaryConfiguration must be an object.');
    out.canary = {
      canaryPercent: percent(c.canaryPercent ?? 5, 'canaryConfiguration.canaryPercent', 0.1),
      canaryBakeTimeInMinutes: integer(c.canaryBakeTimeInMinutes ?? 10, 'canaryConfiguration.canaryBakeTimeInMinutes', 0, 1440),
    };
  }
  if (value.earlySuccessCriteria !== undefined) {
    const e = value.earlySuccessCriteria;
    if (!isObject(e) || typeof e.enable !== 'boolean') throw invalid('earlySuccessCriteria requires enable.');
    if (!e.enable) {
      out.earlySuccess = undefined;
    } else {
      if (e.healthyPercent === undefined || e.sourceServiceRevisionCleanup === undefined) {
        throw invalid('earlySuccessCriteria requires healthyPercent and sourceServiceRevisionCleanup when enable is true.');
      }
      const cleanup = e.sourceServiceRevisionCleanup;
      if (cleanup !== 'BLOCKING' && cleanup !== 'DEFERRED') throw invalid('earlySuccessCriteria.sourceServiceRevisionCleanup must be BLOCKING or DEFERRED.');
      out.earlySuccess = { healthyPercent: integer(e.healthyPercent, 'earlySuccessCriteria.healthyPercent', 0, 100), cleanup };
    }
  }
  if (out.earlySuccess && out.earlySuccess.healthyPercent < out.minimumHealthyPercent) {
    throw invalid('earlySuccessCriteria.healthyPercent must be greater than or equal to minimumHealthyPercent.');
  }
  if (out.earlySuccess && out.strategy !== 'ROLLING') throw invalid('earlySuccessCriteria is supported only with the ROLLING deployment strategy.');
  if (out.strategy === 'LINEAR') out.linear ??= { stepPercent: 10, stepBakeTimeInMinutes: 6 };
  if (out.strategy === 'CANARY') out.canary ??= { canaryPercent: 5, canaryBakeTimeInMinutes: 10 };
  if (out.strategy === 'ROLLING' && out.lifecycleHooks.length) {
    throw invalid('lifecycleHooks are supported only with the BLUE_GREEN, LINEAR and CANARY deployment strategies.');
  }
  return out;
}

function hook(value: unknown, i: number): Wire<DeploymentLifecycleHook> {
  const at = `lifecycleHooks[${i}]`;
  if (!isObject(value)) throw invalid(`${at} must be an object.`);
  const targetType = value.targetType ?? 'AWS_LAMBDA';
  if (targetType !== 'AWS_LAMBDA' && targetType !== 'PAUSE') throw invalid(`${at}.targetType must be AWS_LAMBDA or PAUSE.`);
  if (targetType === 'AWS_LAMBDA' && (typeof value.hookTargetArn !== 'string' || typeof value.roleArn !== 'string')) {
    throw invalid(`${at}: an AWS_LAMBDA hook requires hookTargetArn and roleArn.`);
  }
  if (!Array.isArray(value.lifecycleStages) || value.lifecycleStages.length === 0) throw invalid(`${at}.lifecycleStages can not be empty.`);
  for (const s of value.lifecycleStages) {
    if (!HOOK_STAGES.includes(s as DeploymentLifecycleHookStage)) throw invalid(`${at}: invalid lifecycle stage ${String(s)}.`);
  }
  const t = value.timeoutConfiguration;
  if (t !== undefined) {
    if (!isObject(t)) throw invalid(`${at}.timeoutConfiguration must be an object.`);
    if (t.timeoutInMinutes !== undefined) integer(t.timeoutInMinutes, `${at}.timeoutConfiguration.timeoutInMinutes`, 1, 1440);
    if (t.action !== undefined && t.action !== 'CONTINUE' && t.action !== 'ROLLBACK') {
      throw invalid(`${at}.timeoutConfiguration.action must be CONTINUE or ROLLBACK.`);
    }
  }
  return clone(value) as Wire<DeploymentLifecycleHook>;
}

function integer(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(`${name} must be between ${min} and ${max}.`);
  return v;
}

function percent(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !(v >= min && v <= 100)) throw invalid(`${name} must be between ${min} and 100.`);
  return v;
}

function invalid(message: string): EcsError {
  return new EcsError('InvalidParameterException', message);
}
