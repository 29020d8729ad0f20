/** The custom search attributes the workflows write, and the values of `Outcome`. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes; the dev server registers them at start (sandbox/temporal.ts). */
export const SA = {
  operation: defineSearchAttributeKey('SlipwayOperation', SearchAttributeType.KEYWORD),
  app: defineSearchAttributeKey('App', SearchAttributeType.KEYWORD),
  env: defineSearchAttributeKey('Env', SearchAttributeType.KEYWORD),
  tag: defineSearchAttributeKey('ImageTag', SearchAttributeType.KEYWORD),
  actor: defineSearchAttributeKey('Actor', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute` arguments for `temporal server start-dev` / `temporal operator search-attribute create`. */
export const SEARCH_ATTRIBUTE_DECLARATIONS = Object.values(SA).map((k) => `${k.name}=Keyword`);

/** Outcome values stored in the `Outcome` search attribute. */
export type Outcome =
  'running' | 'succeeded' | 'rolled_back_by_ecs' | 'rolled_back_by_alarm' | 'timed_out' | 'verification_failed' | 'refused' | 'unauthorized' | 'cancelled' | 'failed';
