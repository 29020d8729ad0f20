/**
 * Typed progress events in words: one line per event, for the CLI's follow, the Temporal
 * UI's details and the progress query's `log`. Pure (the workflow bundle imports it).
 */
import type { ProgressEvent, TaskCounts } from '../contract';
import { provenLine } from './identity';
import { shortTag } from './tags';

const lower = (s: string) => s.toLowerCase().replace(/_/g, ' ');

export function tasksText(c: TaskCounts): string {
  return `${c.running}/${c.desired} running, ${c.pending} pending, ${c.failed} failed`;
}

export function progressText(e: ProgressEvent): string {
  switch (e.code) {
    case 'operation.requested': {
      const d = e.data;
      const where = d.tag !== undefined ? ` ${shortTag(d.tag)}${d.env !== undefined ? ` → ${d.env}` : ''}` : d.env !== undefined ? ` in ${d.env}` : '';
      return `${d.operation} ${d.app}${where} by @${d.actor}${d.reason ? ` (${d.reason})` : ''}`;
    }
    case 'identity.proven':
      return provenLine(e.data);
    case 'actor.authorised':
      return `@${e.data.actor} is authorised (${e.data.via === 'team' ? `member of ${e.data.team}` : 'allowed bot'})`;
    case 'images.found':
      return `'${shortTag(e.data.tag)}' exists for every image: ${e.data.images.join(', ')}`;
    case 'service.strategy':
      return `${e.data.service} deploys ${e.data.strategy}`;
    case 'revision.repointing':
      return `re-pointing the service at ${e.data.revision}, the revision validated with ${shortTag(e.data.tag)} (no render, no registration)`;
    case 'revision.rendering':
      return `rendering ${e.data.templateFamily} with ${shortTag(e.data.tag)} and registering ${e.data.family}`;
    case 'revision.registered':
      return `registered ${e.data.revision}${e.data.reused ? ' (found from an earlier attempt)' : ''}: ${e.data.images.join(', ')}`;
    case 'service.updating':
      return `updating service ${e.data.cluster}/${e.data.service}`;
    case 'ecs.waiting':
      return `waiting for ECS (budget ${e.data.budget})`;
    case 'ecs.status':
      return `ECS deployment ${lower(e.data.status)}${e.data.reason ? `: ${e.data.reason}` : ''}`;
    case 'ecs.tasks': {
      const c = e.data.counts;
      return `tasks${c.revision ? ` (${c.revision}, what runs)` : ''}: ${tasksText(c)}`;
    }
    case 'ecs.stage':
      return `ECS stage: ${e.data.stage}`;
    case 'ecs.traffic':
      return `traffic on ${shortTag(e.data.tag)}: production ${e.data.production}%, test ${e.data.test}%`;
    case 'ecs.traffic-shifted':
      return `production traffic shifted at ${e.data.at}`;
    case 'ecs.hook':
      return e.data.status === 'AWAITING_ACTION'
        ? `ECS holds the deployment at a ${e.data.name} lifecycle hook (${e.data.stage ?? 'stage unknown'}) until ContinueServiceDeployment answers it`
        : `lifecycle hook ${e.data.name}: ${lower(e.data.status)}`;
    case 'ecs.event':
      return `ECS: ${e.data.message}`;
    case 'ecs.notified':
      return `ECS event ${e.data.name}${e.data.reason ? `: ${e.data.reason}` : ''}`;
    case 'ecs.task-stopped':
      return `stopped: ${e.data.reason}`;
    case 'ecs.rolling-back':
      return 'ECS is rolling the deployment back';
    case 'ecs.stopped':
      return `stopped the ECS deployment (${e.data.stopType}): ${stopText(e.data.stopType)}`;
    case 'verify.checking':
      return `checking ${e.data.url} reports '${shortTag(e.data.tag)}'`;
    case 'verify.reported':
      return `${e.data.url} reports '${shortTag(e.data.release)}'`;
    case 'deploy.succeeded':
      return `succeeded: ${e.data.service} runs ${e.data.revision} (${e.data.running}/${e.data.desired} tasks)`;
    case 'rollback.target':
      return e.data.serving
        ? `target: ${shortTag(e.data.tag)}, the last validated release, which the site still serves while another deploy is in flight (validated ${e.data.validatedAt} by @${e.data.validatedBy})`
        : `target: ${shortTag(e.data.tag)}, the last validated release${e.data.running ? ` before ${shortTag(e.data.running)} (running now)` : ''}, validated ${e.data.validatedAt} by @${e.data.validatedBy}`;
    case 'rollback.already-running': {
      const d = e.data;
      return (
        `${d.env} already runs the last validated release ${d.tag} (since ${d.since}): the deploy of ${d.afterTag ? shortTag(d.afterTag) : 'another tag'} after it ended ${lower(d.afterOutcome ?? 'otherwise')}, ` +
        `and ${d.service} runs ${d.revision} again (validated ${d.validatedAt} by @${d.validatedBy}). Nothing was changed. ` +
        `To go further back, name the tag: slipway rollback ${d.app} ${d.env} --tag <tag>`
      );
    }
    case 'rollback.ecs-rolled-back':
      return `stopped the deploy in flight with StopServiceDeployment ROLLBACK: ECS rolled ${e.data.service} back to ${e.data.revision}, the revision validated with ${shortTag(e.data.tag)} (nothing registered or re-pointed)`;
    case 'rollback.ecs-elsewhere':
      return `ECS rolls the stopped deployment back ${e.data.rolledBackTo ? `to ${e.data.rolledBackTo}` : 'without saying where'} (${e.data.status ? lower(e.data.status) : 'status unknown'}), not to ${e.data.expected}: re-pointing the service instead`;
    case 'rollback.repointed':
      return `re-pointed ${e.data.service} at ${e.data.revision}, the revision validated with ${shortTag(e.data.tag)}`;
    case 'gate.unhooked':
      return `testTraffic is configured for ${e.data.env}, but ${e.data.service} has no PAUSE lifecycle hook at ${e.data.stage}: the checks on test traffic do not run`;
    case 'gate.started':
      return `ECS holds ${shortTag(e.data.tag)} on test traffic (PAUSE hook at ${e.data.stage}): checking it there before production traffic moves`;
    case 'gate.version':
      return `test route ${e.data.url} reports '${shortTag(e.data.release)}'`;
    case 'gate.playwright-running':
      return `running the Playwright suite against the test route ${e.data.url}`;
    case 'gate.playwright-passed':
      return `Playwright on the test route: ${e.data.summary}`;
    case 'gate.awaiting-approval':
      return (
        `waiting until ${e.data.deadline} for an authorised person to approve ${e.data.tag} on test traffic ` +
        `(Update 'approve' or 'reject', or Signal 'approveSignal' or 'rejectSignal', on ${e.data.workflowId})`
      );
    case 'gate.decided':
      return `${e.data.decision === 'approve' ? 'approved' : 'rejected'} ${shortTag(e.data.tag)} on test traffic: @${e.data.approver}${e.data.reason ? ` (${e.data.reason})` : ''}`;
    case 'gate.failed':
      return `failed on test traffic: ${e.data.reason}`;
    case 'gate.answered':
      return e.data.answered
        ? `answered the PAUSE hook with ${e.data.action}${e.data.action === 'CONTINUE' ? ': production traffic may move' : ': ECS rolls back to the revision production runs'}`
        : `the PAUSE hook was ${lower(e.data.hookStatus)} before Slipway answered it (${e.data.action})`;
    case 'rollback.preempted':
      return `cancelled the deploy in flight (${e.data.tag ? shortTag(e.data.tag) : '?'}, run ${e.data.runId})`;
    case 'redeploy.reported':
      return `${e.data.url} reports '${shortTag(e.data.release)}': deploying it again from the current template`;
    case 'operation.succeeded':
      return `succeeded: ${e.data.env} runs ${shortTag(e.data.tag)}`;
    case 'release.failed-before':
      return `${e.data.name} already released this image and is marked failed: ${e.data.url}`;
    case 'release.picked-up':
      return `${e.data.name} already released this image: picking it up`;
    case 'release.written':
      return `${e.data.created ? 'created' : 'found'} ${e.data.name}: ${e.data.url} (${e.data.pulls} pull requests since ${e.data.previous ?? 'the start'})`;
    case 'release.aliased':
      return `tagged ${e.data.images} image(s) ${e.data.alias}`;
    case 'release.production-by-caller':
      return `${e.data.env} is deployed by the caller, alongside this release`;
    case 'release.nothing-to-deploy':
      return `${e.data.env} already runs ${shortTag(e.data.tag)}: nothing to deploy`;
    case 'release.release-only':
      return `${e.data.app} is release-only: its images are tagged; it is deployed elsewhere`;
    case 'release.deployed':
      return `${e.data.env} runs ${shortTag(e.data.tag)}`;
    case 'release.changelog':
      return `changelog ${e.data.path}: ${e.data.url}`;
    case 'operation.ended':
      return e.data.message;
    case 'notification.unsent':
      return e.data.message;
  }
}

/** What a StopServiceDeployment of this type does, in words. */
export function stopText(stopType: 'ROLLBACK' | 'ABORT'): string {
  return stopType === 'ROLLBACK' ? 'ECS rolls the service back to its previous revision' : 'ECS stops it where it is';
}
