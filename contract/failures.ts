/** How an operation fails: the failure types (ApplicationFailure.type) and the details a failed deploy carries. */
import type { Outcome } from './search-attributes';

/** Failure types a deploy can end with (ApplicationFailure.type). The CLI maps each to an exit code. */
export const FailureType = {
  badInput: 'BadInput',
  notFound: 'NotFound',
  unauthorized: 'Unauthorized',
  clientRejected: 'ClientRejected',
  rolledBack: 'RolledBackByEcs',
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
}
