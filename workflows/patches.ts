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
