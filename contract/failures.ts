/** How an operation fails: the failure types (ApplicationFailure.type) and the details a failed deploy carries. */
import type { Outcome } from './search-attributes';

/** Failure types a deploy can end with (ApplicationFailure.type). The CLI maps each to an exit code. */
export const FailureType = {
  badInput: 'BadInput',
  notFound: 'NotFound',
  unauthorized: 'Unauthorized',
  clientRejected: 'ClientRejected',
  rolledBack: 'RolledBackByEcs',
  /** ECS rolled back because CloudWatch alarms it watches went into ALARM. */
  alarmRollback: 'RolledBackByAlarm',
  timedOut: 'DeployTimedOut',
  verificationFailed: 'VerificationFailed',
  failed: 'DeployFailed',
} as const;

/** Details attached to a failed deploy (ApplicationFailure details[0]). */
export interface DeployFailureDetails {
  outcome: Exclude<Outcome, 'running' | 'succeeded'>;
  app: string;
  env: string;
  tag: string;
  taskDefinitionArn?: string;
  serviceDeploymentArn?: string;
  reasons: string[];
  /** The CloudWatch alarms that made ECS roll back (outcome rolled_back_by_alarm). */
  triggeredAlarmNames?: string[];
  /** How Slipway ended the ECS deployment it started, when it gave up on it. */
  stoppedEcsDeployment?: 'ROLLBACK' | 'ABORT';
  /** Set when the revision failed its checks on test traffic and Slipway answered ECS's PAUSE hook with ROLLBACK. */
  testGateFailed?: string;
}
