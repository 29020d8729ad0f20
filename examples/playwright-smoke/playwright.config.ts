/**
 * Playwright config of the sample smoke suite that Slipway's gate runs against a live
 * environment. It follows the gate's environment contract (see README.md):
 *
 *   PLAYWRIGHT_BASE_URL                  the site under test (required)
 *   API_URL / PLAYWRIGHT_API_URL         the API of that environment (for API checks)
 *   PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH  a Chromium to launch instead of Playwright's download
 */
import { defineConfig, devices } from '@playwright/test';

const executablePath = process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH || undefined;

/** What a system Chromium needs to run headless in a container or CI runner. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export default defineConfig({
  testDir: './tests',
  // A live site: one test at a time, generous timeouts for network latency.
  fullyParallel: false,
  workers: 1,
  timeout: 30_000,
  // A live site has passing hiccups: a test that fails, then passes on its retry, is reported
  // flaky, not failed (the gate's \`retries\` overrides this; the production smoke suite keeps it).
  retries: 1,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: process.env.PLAYWRIGHT_BASE_URL,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: executablePath ? { executablePath, args: CHROMIUM_ARGS } : {},
      },
    },
  ],
});
