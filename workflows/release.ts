/**
 * The release workflow: a date-based release of one image, made once.
 *
 *   preflight (actor, image tag for every image) → release date from workflow time →
 *   notes from the PRs merged since the previous release → git tag + GitHub Release →
 *   image aliases rel-<date> → production deploy (child; not for release-only apps) →
 *   changelog pull request → notifications.
 *
 * A caller that deploys production itself (the pipeline, `productionByCaller`) runs the
 * release beside that deploy: then the release makes only its GitHub and registry writes.
 *
 * Every effect is idempotent, and a release of an image that was already released picks
 * up that release (same date, same name) instead of making a second one: a re-run heals
 * a partial release and creates nothing twice.
 */
import { executeChild, patched, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { changelogPath, imageAlias, releaseDate, releaseDateToIso, releaseName, releaseNotes } from '../domain/release';
import { keyword, operationInputProblem } from '../domain/input';
import { shortTag } from '../domain/tags';
import { deploy } from './deploy';
import { DetailsLog } from './details';
import { Closing, lockProblem } from './failures';
import { Notifier } from './notifier';
import { PATCH_RELEASE_ANNOUNCES_CHANGES_ONLY, PATCH_RELEASE_SKIPS_RUNNING } from './patches';
import { githubWrite, quick } from './profiles';
import { deployWorkflowId, FailureType, releaseWorkflowId, SA, type DeployResult, type ReleaseInput, type ReleaseResult } from '../contract';

const acts = proxyActivities<Activities>(quick);
/** GitHub writes: the release, its failure mark, the changelog pull request. */
const writes = proxyActivities<Activities>(githubWrite);

export async function release(input: ReleaseInput): Promise<ReleaseResult> {
  const log = new DetailsLog(12);
  const note = log.note.bind(log);
  const closing = new Closing({ say: log.say });
  try {
    return await run();
  } catch (err) {
    return await closing.caught(err);
  }

  async function run(): Promise<ReleaseResult> {
    const fail = (outcome: 'refused' | 'failed', type: string, message: string): never => closing.end(outcome, type, message);
    const preflight = <T>(fn: () => Promise<T>): Promise<T> => closing.step(fn, { refusalsOnly: true });

    upsertSearchAttributes([
      { key: SA.operation, value: 'release' },
      { key: SA.app, value: keyword(input.app) },
      { key: SA.tag, value: keyword(input.tag) },
      { key: SA.actor, value: keyword(input.actor) },
      { key: SA.outcome, value: 'running' },
    ]);
    note('operation.requested', { operation: 'release', app: keyword(input.app), tag: keyword(input.tag), actor: keyword(input.actor) });
    const problem = operationInputProblem(input, true);
    if (problem) fail('refused', FailureType.badInput, `refused: ${problem}`);
    if (!/^[0-9a-f]{40}$/.test(input.tag)) {
      fail('refused', FailureType.badInput, `refused: a release names the image by its full commit SHA (40 hex characters); got '${input.tag}'`);
    }
    const lock = lockProblem(`a release of ${input.app} ${input.tag}`, releaseWorkflowId(input.app, input.tag));
    if (lock) fail('refused', FailureType.badInput, `refused: ${lock}`);

    // ---- preflight: nothing is written unless all of this passes ----
    const plan = await preflight(() => acts.resolveRelease({ app: input.app }));
    const auth = await preflight(() =>
      acts.authorize({
        actor: input.actor,
        operation: 'release',
        app: input.app,
        env: plan.production?.env,
        idToken: input.idToken,
        parentWorkflowId: workflowInfo().parent?.workflowId,
      }),
    );
    log.proven(auth?.proven);
    await preflight(() => acts.checkImageTags({ images: plan.images, tag: input.tag }));

    // ---- one release per image: pick up an earlier one ----
    const earlier = await acts.findReleaseForCommit({ app: input.app, sha: input.tag });
    if (earlier?.failed) {
      note('release.failed-before', { name: earlier.name, url: earlier.url }, 'error');
      upsertSearchAttributes([{ key: SA.outcome, value: 'failed' }]);
      fail(
        'failed',
        'ReleaseFailedBefore',
        `${earlier.name} already released ${shortTag(input.tag)} and its production deploy failed (${earlier.url}); deploy or roll back production explicitly`,
      );
    }
    const date = earlier?.date ?? releaseDate(new Date());
    const name = releaseName(input.app, date);
    if (earlier) note('release.picked-up', { name });

    // ---- notes, tag and GitHub Release ----
    const previous = await acts.previousRelease({ app: input.app, before: date });
    const pulls = await acts.mergedPullsSince({ app: input.app, since: previous?.releasedAt, until: releaseDateToIso(date) });
    const notes = releaseNotes(pulls);
    const rel = await writes.createRelease({ app: input.app, name, sha: input.tag, body: notes, actor: input.actor });
    note('release.written', { name, url: rel.url, created: rel.created, pulls: pulls.length, ...(previous && { previous: previous.name }) });

    // ---- image aliases: rel-<date> for every image ----
    const aliases = await acts.aliasImageTags({ images: plan.images, fromTag: input.tag, toTag: imageAlias(date) });
    note('release.aliased', { images: aliases.length, alias: imageAlias(date) });

    // A release picked up again deploys production only if production does not run it yet.
    let deployNeeded = !plan.releaseOnly && !input.productionByCaller;
    if (input.productionByCaller && !plan.releaseOnly) note('release.production-by-caller', { env: plan.production?.env ?? 'production' });
    if (earlier && deployNeeded && plan.production?.versionEndpoint && patched(PATCH_RELEASE_SKIPS_RUNNING)) {
      const running = await acts.readVersion({ url: plan.production.versionEndpoint }).then(
        (v) => v.release,
        () => undefined,
      );
      if (running === input.tag) {
        deployNeeded = false;
        note('release.nothing-to-deploy', { env: plan.production.env, tag: input.tag });
      }
    }

    // Nothing done, nothing announced: a re-submitted release just answers. (Releases started
    // before this rule announced every release, a re-released release-only app included.)
    const announce = rel.created || deployNeeded || !patched(PATCH_RELEASE_ANNOUNCES_CHANGES_ONLY);
    const notifier = announce
      ? new Notifier({ kind: 'release', app: input.app, env: plan.production?.env, tag: input.tag, actor: input.actor, releaseName: name }, log.say)
      : undefined;
    closing.notifier = notifier;
    notifier?.started();

    // ---- production deploy (not for release-only apps) ----
    let deployed: DeployResult | undefined;
    if (plan.releaseOnly) {
      note('release.release-only', { app: input.app });
    } else if (deployNeeded) {
      const env = plan.production!.env;
      // A failed production deploy marks the release failed, then ends the release with it.
      closing.child = {
        before: async (f) => void (await writes.markReleaseFailed({ releaseId: rel.id, reason: `the ${env} deploy failed: ${f.message}` })),
        notice: (f) => `${name}: the ${env} deploy failed: ${f.message}`,
        message: (f) => `${name} is released but its ${env} deploy failed: ${f.message}`,
      };
      deployed = await executeChild(deploy, {
        workflowId: deployWorkflowId(input.app, env),
        args: [{ app: input.app, env, tag: input.tag, actor: input.actor, reason: `release ${name}`, budgetSeconds: input.budgetSeconds }],
        staticSummary: `deploy ${input.app} ${shortTag(input.tag)} → ${env} for ${name}`,
      });
      closing.child = {};
      note('release.deployed', { env, tag: input.tag });
    }

    // ---- changelog pull request, pinging the actor ----
    const pr = await writes.openChangelogPr({ app: input.app, date, notes, actor: input.actor, releaseUrl: rel.url });
    note('release.changelog', { path: changelogPath(input.app, date), url: pr.url });

    await notifier?.succeeded();
    upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
    return {
      app: input.app,
      tag: input.tag,
      name,
      releaseUrl: rel.url,
      releaseId: rel.id,
      existing: !!earlier,
      aliases: aliases.map((a) => ({ repository: a.repository, digest: a.digest, created: a.created })),
      ...(deployed && { deploy: deployed }),
      changelogPr: { number: pr.number, url: pr.url },
      releaseOnly: plan.releaseOnly,
    };
  }
}
