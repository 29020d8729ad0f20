/** Smoke tests of the frontend: the home page renders, can be searched from, and shows the release. */
import { expect, type Page, test } from '@playwright/test';
import { siteUrl } from './urls';

/** Opens the home page; a page that is not there fails at once, not after a locator's timeout. */
async function openHome(page: Page): Promise<void> {
  const response = await page.goto(siteUrl());
  expect(response?.status(), `status of ${siteUrl()}`).toBe(200);
}

test.describe('frontend', { tag: '@deployment-smoketest' }, () => {
  test('home page loads with the title', async ({ page }) => {
    await openHome(page);
    await expect(page).toHaveTitle(/Openverse/);
  });

  test('search box is visible', async ({ page }) => {
    await openHome(page);
    await expect(page.locator('input[name="q"]')).toBeVisible();
  });

  test('shows the release being deployed', async ({ page }) => {
    await openHome(page);
    const release = page.getByTestId('release');
    await expect(release).toBeVisible();
    // Rendered by the server: read once rather than waiting for it to change.
    const text = (await release.textContent()) ?? '';
    const expected = process.env.EXPECTED_RELEASE;
    if (expected) expect(text, 'release shown on the home page').toContain(expected);
    else expect(text.trim(), 'release shown on the home page').not.toBe('');
  });
});
