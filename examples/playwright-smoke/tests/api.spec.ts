/** Smoke test of the API: its version endpoint answers JSON naming a release. */
import { expect, test } from '@playwright/test';
import { apiUrl } from './urls';

test('API /version answers JSON with a release', { tag: '@deployment-smoketest' }, async ({ request }) => {
  const url = apiUrl('version');
  test.skip(!url, 'API_URL is not set');
  const response = await request.get(url!);
  expect(response.status(), `status of ${url}`).toBe(200);
  expect(response.headers()['content-type']).toContain('application/json');
  const body = await response.json();
  expect(typeof body.release, 'type of "release"').toBe('string');
  expect(body.release).not.toBe('');
});
