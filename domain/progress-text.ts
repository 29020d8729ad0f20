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
      return `ECS deployment ${lower(e.data.status)}`;
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
      return `target: ${shortTag(e.data.tag)}, the last validated release${e.data.running ? ` before ${shortTag(e.data.running)} (running now)` : ''}, validated ${e.data.validatedAt} by @${e.data.validatedBy}`;
    case 'rollback.preempted':
      return `cancelled the deploy in flight (${e.data.tag ? shortTag(e.data.tag) : '?'}, run ${e.data.runId})`;
    case 'redeploy.reported':
      return `${e.data.url} reports '${shortTag(e.data.release)}': deploying it again from the current template`;
    case 'operation.succeeded':
      return `succeeded: ${e.data.env} runs ${shortTag(e.data.tag)}`;
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
