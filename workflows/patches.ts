/**
 * Patch markers (`patched(name)`), each written once: each names a step added while
 * operations could be in flight. A name is part of recorded histories: never rename one.
 */

/** Deploy: authorise the actor and check the image tags before registering anything. */
export const PATCH_PREFLIGHT = 'preflight-authorize-and-check-images';
/** Deploy: check the version endpoint reports the deployed tag. */
export const PATCH_VERIFY = 'verify-version-endpoint';
/** Deploy, rollback, redeploy: notify start, success and failure. */
export const PATCH_NOTIFY = 'notify-start-success-failure';
/** Release: a release picked up again skips the production deploy when production already runs it. */
export const PATCH_RELEASE_SKIPS_RUNNING = 'release-picked-up-skips-running-production';
/** Release: a release that did nothing (no release created, no deploy needed) announces nothing. */
export const PATCH_RELEASE_ANNOUNCES_CHANGES_ONLY = 'release-nothing-done-nothing-announced';
/** Redeploy: it checks its actor itself before notifying; redeploys started before (the child deploy checked, after the notices) replay without it. */
export const PATCH_REDEPLOY_AUTHORIZES = 'redeploy-authorizes-before-notifying';
/** Deploy: reads the service's deploymentConfiguration (and desired count) before any change. */
export const PATCH_SETTINGS = 'read-deployment-settings';
/** Deploy: ends the ECS deployment Slipway started when it gives up on it (budget, cancellation). */
export const PATCH_STOP = 'stop-ecs-deployment-on-give-up';
/** Redeploy (identity branch): it proved its actor itself before the child deploy; replays like PATCH_REDEPLOY_AUTHORIZES, which new redeploys record. */
export const PATCH_REDEPLOY_PROVES_IDENTITY = 'redeploy-proves-identity';
/** Pipeline: logins compare as GitHub compares them (trimmed, no '@', any case); earlier runs compared them exactly. */
export const PATCH_LOGINS_AS_GITHUB = 'logins-compare-as-github';
/** Pipeline: pause, resume and cancel need an authorised (and, in oidc mode, proven) actor. */
export const PATCH_PIPELINE_CONTROL = 'pipeline-control-authorized';
/** Pipeline: the merger is also who GitHub says merged the candidate (its pull request's merged_by), not only the login the report named. */
export const PATCH_MERGER_FROM_GITHUB = 'merger-from-github';
/** Pipeline: an approval starts the production deploy at once, the release's GitHub writes alongside (earlier runs released first, production inside the release). */
export const PATCH_PROMOTE_ALONGSIDE = 'promote-production-alongside-release';
/** Pipeline: the production smoke suite after a promotion, rolling production back when it fails. */
export const PATCH_PRODUCTION_SMOKE = 'production-smoke-suite';
/** Rollback (to the last validated release): when the environment already runs it after a later deploy did not take over, answers so and changes nothing. */
export const PATCH_ROLLBACK_ALREADY_THERE = 'rollback-answers-already-running';
/** Rollback: when the preempted deploy's StopServiceDeployment ROLLBACK returns the service to the target's validated revision, ECS's rollback is the rollback (no re-pointing). */
export const PATCH_ROLLBACK_ADOPTS_STOP = 'rollback-adopts-ecs-rollback';
/** Deploy: checks the new revision on test traffic at a PAUSE hook (POST_TEST_TRAFFIC_SHIFT) and answers it with ContinueServiceDeployment. */
export const PATCH_TEST_GATE = 'test-traffic-gate';
/** Deploy: registers, updates and watches on the ECS task queues (`<taskQueue>-ecs-register|update|read`), which Temporal rate-limits across all workers, at the deploy's priority. */
export const PATCH_ECS_QUEUES = 'ecs-calls-on-rate-limited-task-queues';
/** Deploy: a rolling deployment is watched by ECS's events (from SQS, through the worker) and read to reconcile, where `aws.events` is configured. */
export const PATCH_EVENT_WATCH = 'watch-by-ecs-events';
/** Deploy: a look that confirms an ECS event runs on the deploy's own worker (a local activity), not through the rate-limited read queue. */
export const PATCH_CONFIRM_LOCALLY = 'confirm-ecs-events-locally';
/** Endings that earlier versions left without Outcome or notice replay without them. */
export const PATCH_EVERY_ENDING = 'every-ending-is-an-ending';
/** Notices of operations started before they were tried once in line replay with the retries in line. */
export const PATCH_NOTIFY_ASIDE = 'notify-without-holding-the-outcome';
/** Deploy, rollback, redeploy: the checks before any change (target, actor, images, the service's settings, the release to roll back to) run as local activities, in one workflow task. */
export const PATCH_LOCAL_PREFLIGHT = 'preflight-as-local-activities';

/**
 * The patches each operation consults after its checks, which run as local activities under
 * PATCH_LOCAL_PREFLIGHT: such an operation decides them all before its first local activity.
 * A workflow task may end right after a local activity's marker (the worker heartbeats a task
 * it is slow to finish), and when the history is replayed, the activity resolves before the
 * patches of the next task are known: a patch first asked for there would read as absent.
 */
export const PATCHES_AFTER_PREFLIGHT = {
  deploy: [
    PATCH_PREFLIGHT,
    PATCH_SETTINGS,
    PATCH_NOTIFY,
    PATCH_NOTIFY_ASIDE,
    PATCH_ECS_QUEUES,
    PATCH_EVENT_WATCH,
    PATCH_CONFIRM_LOCALLY,
    PATCH_TEST_GATE,
    PATCH_VERIFY,
    PATCH_STOP,
    PATCH_EVERY_ENDING,
  ],
  rollback: [PATCH_ROLLBACK_ALREADY_THERE, PATCH_ROLLBACK_ADOPTS_STOP, PATCH_NOTIFY, PATCH_NOTIFY_ASIDE, PATCH_EVERY_ENDING],
  redeploy: [PATCH_REDEPLOY_AUTHORIZES, PATCH_NOTIFY, PATCH_NOTIFY_ASIDE, PATCH_EVERY_ENDING],
} as const;
