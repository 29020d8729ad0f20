/**
 * Typed progress events of an operation shown as the Temporal UI's current details (the last
 * few, in words): rollback, redeploy and release. The deploy keeps its own, queryable list.
 */
import { setCurrentDetails } from '@temporalio/workflow';
import { provenShown } from '../domain/identity';
import { progressText } from '../domain/progress-text';
import type { ProgressCode, ProgressData, ProgressEvent, ProgressLevel, ProvenActor } from '../contract';

/** A progress event at the workflow's current time. */
export function progressEvent<C extends ProgressCode>(code: C, data: ProgressData[C], level: ProgressLevel = 'info'): ProgressEvent {
  return { code, level, at: new Date().toISOString(), data } as ProgressEvent;
}

export class DetailsLog {
  private readonly entries: ProgressEvent[] = [];

  constructor(private readonly keep: number) {}

  note<C extends ProgressCode>(code: C, data: ProgressData[C], level: ProgressLevel = 'info'): void {
    this.entries.push(progressEvent(code, data, level));
    if (this.entries.length > this.keep) this.entries.shift();
    setCurrentDetails(this.entries.map((e) => `- ${progressText(e)}`).join('\n'));
  }

  /** The identity a GitHub Actions ID token proved, when it did. */
  proven(p: ProvenActor | undefined): void {
    if (p) this.note('identity.proven', provenShown(p));
  }

  /** For `Closing` and `Notifier`: an ending (with its outcome), or a notification not sent. */
  readonly say = (message: string, outcome?: string): void =>
    outcome ? this.note('operation.ended', { outcome, message }, 'error') : this.note('notification.unsent', { message }, 'warn');
}
