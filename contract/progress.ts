/**
 * Typed progress events: what a deploy emits as it goes (code, level, data, time). The
 * workflow writes no sentences; `domain/progress-text.ts` renders the words where people read
 * them (the CLI's follow, the Temporal UI's details, the `log` of the progress query), and
 * machines read the codes and data.
 */
import type { TaskCounts } from './types';

export type ProgressLevel = 'info' | 'warn' | 'error';

/** Each code and the data it carries. Codes are stable: add new ones, never change a meaning. */
export interface ProgressData {
  /** The request as it arrived (a rollback may leave the tag to Slipway; a release has no environment). */
  'operation.requested': { operation: string; app: string; env?: string; tag?: string; actor: string; reason?: string };
  /** A GitHub Actions ID token proved who acted. */
  'identity.proven': { actor: string; triggeringActor?: string; workflowRef?: string; runId?: string };
  /** The actor may do this: a member of the team, or an allowed bot. */
  'actor.authorised': { actor: string; via: 'team' | 'bot'; team?: string };
  /** The tag exists for every image of the app (repository names, last path segment). */
  'images.found': { tag: string; images: string[] };
  /** How the service deploys, read before the update. */
  'service.strategy': { service: string; strategy: string };
  /** A rollback to a proven revision: no render, no registration. */
  'revision.repointing': { revision: string; tag: string };
  'revision.rendering': { templateFamily: string; family: string; tag: string };
  'revision.registered': { revision: string; reused: boolean; images: string[] };
  'service.updating': { cluster: string; service: string };
  /** Waiting for ECS within this budget (its breakdown in words from domain/strategy). */
  'ecs.waiting': { budget: string };
  /** The service deployment's status as ECS reports it (IN_PROGRESS, SUCCESSFUL, ...). */
  'ecs.status': { status: string; reason?: string };
  'ecs.tasks': { counts: TaskCounts };
  /** BLUE_GREEN, LINEAR, CANARY: the lifecycle stage as ECS reports it. */
  'ecs.stage': { stage: string };
  /** Traffic weights (percent) on the new revision. */
  'ecs.traffic': { tag: string; production: number; test: number };
  /** A milestone: all production traffic on the new revision. */
  'ecs.traffic-shifted': { at: string };
  /** A lifecycle hook changed status; AWAITING_ACTION holds the deployment. */
  'ecs.hook': { name: string; status: string; stage?: string };
  /** A service event, as ECS wrote it. */
  'ecs.event': { message: string };
  /** An event ECS emitted (through EventBridge) about the service: `name` is its eventName. */
  'ecs.notified': { name: string; reason?: string };
  /** Why a task of this deploy's revision stopped, as ECS gives it. */
  'ecs.task-stopped': { reason: string };
  'ecs.rolling-back': Record<string, never>;
  /** Slipway ended the ECS deployment it started (StopServiceDeployment). */
  'ecs.stopped': { stopType: 'ROLLBACK' | 'ABORT' };
  'verify.checking': { url: string; tag: string };
  'verify.reported': { url: string; release: string };
  'deploy.succeeded': { service: string; revision: string; running?: number; desired?: number };
  /** Rollback: the last validated release it goes back to, and what runs now (from the version endpoint). */
  'rollback.target': {
    tag: string;
    running?: string;
    validatedAt: string;
    validatedBy: string;
    /** The site still serves it while another deploy is in flight. */ serving?: boolean;
  };
  /** Rollback: the environment already runs its last validated release (a later deploy gave way); nothing changed. */
  'rollback.already-running': {
    env: string;
    tag: string;
    since: string;
    service: string;
    revision: string;
    validatedAt: string;
    validatedBy: string;
    afterTag?: string;
    afterOutcome?: string;
    app: string;
  };
  /** Rollback: ECS's rollback of the stopped deploy returned the service to the target's revision; nothing registered or re-pointed. */
  'rollback.ecs-rolled-back': { service: string; revision: string; tag: string };
  /** Rollback: ECS rolled the stopped deploy back elsewhere (or did not finish): the service is re-pointed instead. */
  'rollback.ecs-elsewhere': { expected: string; rolledBackTo?: string; status?: string };
  /** Rollback: the service was pointed at the target's validated revision. */
  'rollback.repointed': { service: string; revision: string; tag: string };
  /** Rollback: the deploy in flight it cancelled. */
  'rollback.preempted': { tag?: string; runId: string };
  /** Redeploy: what the version endpoint reports, deployed again from the current template. */
  'redeploy.reported': { url: string; release: string };
  /** Rollback, redeploy: the child deploy succeeded. */
  'operation.succeeded': { env: string; tag: string };
  /** testTraffic is configured, but the service has no PAUSE hook at POST_TEST_TRAFFIC_SHIFT. */
  'gate.unhooked': { env: string; service: string; stage: string };
  /** ECS holds the new revision on test traffic at a PAUSE hook: the checks run there. */
  'gate.started': { tag: string; stage: string };
  /** The test route's version endpoint reports the tag. */
  'gate.version': { url: string; release: string };
  'gate.playwright-running': { url: string };
  'gate.playwright-passed': { summary: string };
  /** Waiting for a person to approve the exact tag on test traffic. */
  'gate.awaiting-approval': { tag: string; deadline: string; workflowId: string };
  'gate.decided': { decision: 'approve' | 'reject'; tag: string; approver: string; reason?: string };
  /** A check on test traffic failed: the hook is answered with ROLLBACK. */
  'gate.failed': { reason: string };
  /** How Slipway answered the PAUSE hook (or found it already answered). */
  'gate.answered': { action: 'CONTINUE' | 'ROLLBACK'; answered: boolean; hookStatus: string };
  /** Release: an earlier release of this image whose production deploy failed. */
  'release.failed-before': { name: string; url: string };
  /** Release: an earlier release of this image, picked up again. */
  'release.picked-up': { name: string };
  /** Release: the GitHub Release (created now, or found), with the pull requests in its notes. */
  'release.written': { name: string; url: string; created: boolean; pulls: number; previous?: string };
  /** Release: the images tagged with the release's alias. */
  'release.aliased': { images: number; alias: string };
  /** Release: the caller (the pipeline) deploys production alongside. */
  'release.production-by-caller': { env: string };
  /** Release: production already runs the image. */
  'release.nothing-to-deploy': { env: string; tag: string };
  /** Release: a release-only app; deployed elsewhere. */
  'release.release-only': { app: string };
  /** Release: production runs the image. */
  'release.deployed': { env: string; tag: string };
  /** Release: the changelog pull request. */
  'release.changelog': { path: string; url: string };
  /** The operation ended otherwise than in success: the outcome and the failure's message. */
  'operation.ended': { outcome: string; message: string };
  /** A notification that could not be sent (yet): what and why, in the words of the layer that knows. */
  'notification.unsent': { message: string };
}

export type ProgressCode = keyof ProgressData;

export type ProgressEvent = {
  [C in ProgressCode]: {
    code: C;
    level: ProgressLevel;
    /** ISO time (the workflow's clock). */
    at: string;
    data: ProgressData[C];
  };
}[ProgressCode];
