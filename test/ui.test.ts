/**
 * Slipway's deploys in the Temporal Web UI (the one the dev server serves), through a real
 * browser: a deploy waiting on a slowed ECS sandbox is listed, its execution shows the
 * one-line summary, and the search attributes filter it in and out. Each test opens what it
 * looks at itself. The screenshot the README shows (docs/images/temporal-ui-deploys.png) is
 * composed in a temporary directory, and written into docs/ only with
 * SLIPWAY_UPDATE_SCREENSHOT=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import type { WorkflowHandle } from '@temporalio/client';
import { startDeploy } from '../client/operations';
import { shortTag } from '../domain/tags';
import { freePort, startDevServer, type DevServer } from '../sandbox/temporal';
import { REPO_ROOT, toolPath } from '../sandbox/tools';
import { progressQuery } from '../contract';
import { NEW_TAG, eventually, freshTaskQueue, startStack, startWorker, type RunningWorker, type Stack } from './harness';

const SCREENSHOT = join(REPO_ROOT, 'docs', 'images', 'temporal-ui-deploys.png');
const SUMMARY = `deploy api ${shortTag(NEW_TAG)} → staging by @alice`;
/** Workflows table columns: the status, the ID, and Slipway's search attributes. */
const COLUMNS = ['Status', 'Workflow ID', 'SlipwayOperation', 'App', 'Env', 'Actor', 'Outcome', 'ImageTag'];
const WAIT = { timeout: 30_000 };

describe('Temporal Web UI', () => {
  let temporal: DevServer;
  let stack: Stack;
  let worker: RunningWorker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ui: string;
  let deploy: WorkflowHandle;

  before(async () => {
    [temporal, browser] = await Promise.all([
      freePort().then((uiPort) => startDevServer({ uiPort })),
      chromium.launch({
        executablePath: toolPath('CHROMIUM_PATH'),
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }),
    ]);
    ui = temporal.uiUrl!;
    stack = await startStack({ temporal, timing: { taskStartMs: 200, healthyMs: 200, drainMs: 150 } });
    await stack.world.pushTags(NEW_TAG);
    const tq = freshTaskQueue('ui');
    worker = await startWorker(stack, tq);

    stack.ecs.setSpeed(0.001); // the deploy stays in flight while the UI is checked, however slow the machine
    deploy = await startDeploy(stack.client, { app: 'api', env: 'staging', tag: NEW_TAG, actor: 'alice', reason: 'UI check' }, { taskQueue: tq });
    await eventually('the deploy to wait on ECS', async () => (await deploy.query(progressQuery).catch(() => undefined))?.phase === 'waiting');
    await eventually('visibility to list the deploy', async () => {
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId = 'deploy/api/staging' AND ExecutionStatus = 'Running'` })) return true;
      return false;
    });
    await eventually(
      'the Web UI to answer',
      () =>
        fetch(ui).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
      200,
    );

    context = await browser.newContext({ viewport: { width: 1600, height: 760 } });
    // What an operator sets once under "Configure Columns": Slipway's search attributes as columns.
    await context.addInitScript((columns: string[]) => {
      const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
      const key = 'namespace-workflow-table-columns';
      if (!storage.getItem(key)) storage.setItem(key, JSON.stringify({ default: columns.map((label, i) => ({ label, pinned: i < 2 })) }));
    }, COLUMNS);
    page = await context.newPage();
  });

  after(async () => {
    // Let the deploy finish rather than terminate it under its running activities.
    stack?.ecs.setSpeed(1);
    await deploy?.result().catch(() => undefined);
    await browser?.close();
    await worker?.stop();
    await stack?.close();
    await temporal?.stop();
  });

  const row = () => page.locator('tr', { hasText: 'deploy/api/staging' });
  const STAGING = 'App = "api" AND Env = "staging"';

  /** From the workflows list, the deploy's execution page with its summary and current details shown. */
  async function openExecution(): Promise<void> {
    await row().first().getByRole('link', { name: 'deploy/api/staging' }).first().click();
    await page.getByText('User Metadata', { exact: true }).click();
    // Summary and details are rendered as Markdown in sandboxed frames.
    await page.frameLocator('iframe').first().getByText(SUMMARY, { exact: true }).waitFor(WAIT);
    await page
      .frameLocator('iframe')
      .last()
      .getByText(/waiting/)
      .first()
      .waitFor(WAIT);
  }

  /** The workflows list filtered by `query`, typed into the manual search as an operator does. */
  async function search(query: string): Promise<void> {
    await page.goto(`${ui}/namespaces/default/workflows`);
    await page.getByTestId('toggle-manual-query').click();
    const input = page.getByTestId('workflow-manual-search-input');
    await input.fill(query);
    await input.press('Enter');
    await page.waitForURL(/[?&]query=/, WAIT);
  }

  it('lists the running deploy with its search attributes; its execution shows the summary', async () => {
    await page.goto(`${ui}/namespaces/default/workflows`);
    await row().first().waitFor(WAIT);
    const text = await row().first().innerText();
    for (const expected of [/running/i, /\bdeploy\b/, /\bapi\b/, /\bstaging\b/, /\balice\b/, new RegExp(NEW_TAG)]) assert.match(text, expected);
    await openExecution();
  });

  it('filters by App and Env: the deploy is found for staging, not for production', async () => {
    await search(STAGING);
    assert.match(decodeURIComponent(new URL(page.url()).searchParams.get('query') ?? ''), /App = "api" AND Env = "staging"/);
    await row().first().waitFor(WAIT);
    assert.match(await row().first().innerText(), /running/i);

    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent('App = "api" AND Env = "production"')}`);
    await page.getByText('No Workflows Found').waitFor(WAIT);
    assert.equal(await row().count(), 0);
  });

  it('composes the README screenshot: the filtered list above the execution (into docs/ with SLIPWAY_UPDATE_SCREENSHOT=1)', async () => {
    assert.ok(existsSync(SCREENSHOT), `${SCREENSHOT} is missing: run this test with SLIPWAY_UPDATE_SCREENSHOT=1 to write it`);
    await search(STAGING);
    await row().first().waitFor(WAIT);
    const list = await page.screenshot({ clip: { x: 0, y: 0, width: 1600, height: 400 } });
    await openExecution();
    const execution = await page.screenshot();

    const imgs = [list, execution].map((s) => `<img src="data:image/png;base64,${s.toString('base64')}">`).join('<hr>');
    await page.setContent(`<style>body{margin:0;background:#fff}img{display:block;width:1600px}hr{margin:0;border:0;border-top:2px solid #d0d5dd}</style>${imgs}`);
    const dir = mkdtempSync(join(tmpdir(), 'slipway-ui-'));
    try {
      const file = process.env.SLIPWAY_UPDATE_SCREENSHOT === '1' ? SCREENSHOT : join(dir, 'temporal-ui-deploys.png');
      writeFileSync(file, await page.screenshot({ fullPage: true }));
      // Both views, one above the other: taller than either.
      const { height } = pngSize(file);
      assert.ok(height > 760 + 400, `the composed image is ${height} px high`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Width and height from a PNG's header. */
function pngSize(file: string): { width: number; height: number } {
  const head = readFileSync(file).subarray(0, 24);
  assert.equal(head.subarray(1, 4).toString('ascii'), 'PNG', `${file} is not a PNG`);
  return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
}
