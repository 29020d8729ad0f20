/** Not a deployment smoke test (no tag): runs in a full run, never under `--grep @deployment-smoketest`. */
import { expect, test } from '@playwright/test';
import { siteUrl } from './urls';

test('healthcheck answers OK', async ({ request }) => {
  const response = await request.get(siteUrl('healthcheck'));
  expect(response.status()).toBe(200);
  expect(await response.text()).toBe('OK');
});
