/**
 * A test that fails on its first attempt and passes on a retry — only when
 * SMOKE_FLAKY_MARKER_FILE names a file (created by the first attempt), to check that the
 * gate reports flaky tests. Skipped in every other run.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

test('flaky on purpose', async () => {
  const marker = process.env.SMOKE_FLAKY_MARKER_FILE;
  test.skip(!marker, 'SMOKE_FLAKY_MARKER_FILE is not set');
  const firstAttempt = !existsSync(marker!);
  if (firstAttempt) writeFileSync(marker!, `failed attempt at ${new Date().toISOString()}\n`);
  expect(firstAttempt, 'fails on the first attempt only').toBe(false);
});
