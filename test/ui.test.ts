/**
 * Slipway's deploys in the Temporal Web UI (the one the dev server serves), through a real
 * browser: a deploy waiting on a slowed ECS sandbox is listed, its execution shows the
 * one-line summary, and the search attributes filter it in and out. Saves the screenshot
 * the README shows (docs/images/temporal-ui-deploys.png) when it is missing, or when
 * SLIPWAY_UPDATE_SCREENSHOT=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
  /** Screenshots for the README image: the filtered list, and the execution's summary. */
  const shots: Buffer[] = [];

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

    stack.ecs.setSpeed(0.02);
    deploy = await startDeploy(stack.client, { app: 'api', env: 'staging', tag: NEW_TAG, actor: 'alice', reason: 'UI check' }, { taskQueue: tq });
    await eventually('the deploy to wait on ECS', async () => (await deploy.query(progressQuery).catch(() => undefined))?.phase === 'waiting');
    await eventually('visibility to list the deploy', async () => {
      for await (const _ of stack.client.workflow.list({ query: `WorkflowId = 'deploy/api/staging' AND ExecutionStatus = 'Running'` })) return true;
      return false;
    });
    await eventually('the Web UI to answer', () => fetch(ui).then((r) => r.ok, () => false), 30_000, 200);

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

  it('lists the running deploy with its search attributes; its execution shows the summary', async () => {
    await page.goto(`${ui}/namespaces/default/workflows`);
    await row().first().waitFor(WAIT);
    const text = await row().first().innerText();
    for (const expected of [/running/i, /\bdeploy\b/, /\bapi\b/, /\bstaging\b/, /\balice\b/, new RegExp(NEW_TAG)]) assert.match(text, expected);

    await row().first().getByRole('link', { name: 'deploy/api/staging' }).first().click();
    await page.getByText('User Metadata', { exact: true }).click();
    // Summary and details are rendered as Markdown in sandboxed frames.
    await page.frameLocator('iframe').first().getByText(SUMMARY, { exact: true }).waitFor(WAIT);
    await page.frameLocator('iframe').last().getByText(/waiting/).first().waitFor(WAIT);
    shots.push(await page.screenshot());
  });

  it('filters by App and Env: the deploy is found for staging, not for production', async () => {
    await page.goto(`${ui}/namespaces/default/workflows`);
    await page.getByTestId('toggle-manual-query').click();
    const input = page.getByTestId('workflow-manual-search-input');
    await input.fill('App = "api" AND Env = "staging"');
    await input.press('Enter');
    await page.waitForURL(/[?&]query=/, WAIT);
    assert.match(decodeURIComponent(new URL(page.url()).searchParams.get('query') ?? ''), /App = "api" AND Env = "staging"/);
    await row().first().waitFor(WAIT);
    assert.match(await row().first().innerText(), /running/i);
    shots.unshift(await page.screenshot({ clip: { x: 0, y: 0, width: 1600, height: 400 } }));

    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent('App = "api" AND Env = "production"')}`);
    await page.getByText('No Workflows Found').waitFor(WAIT);
    assert.equal(await row().count(), 0);
  });

  it('captured both views for the README screenshot (rewritten when missing or with SLIPWAY_UPDATE_SCREENSHOT=1)', async () => {
    assert.equal(shots.length, 2, 'both views were captured');
    // A tracked file is left alone on ordinary runs.
    if (existsSync(SCREENSHOT) && process.env.SLIPWAY_UPDATE_SCREENSHOT !== '1') return;
    // One image: the filtered list above the execution's summary and current details.
    const imgs = shots.map((s) => `<img src="data:image/png;base64,${s.toString('base64')}">`).join('<hr>');
    await page.setContent(`<style>body{margin:0;background:#fff}img{display:block;width:1600px}hr{margin:0;border:0;border-top:2px solid #d0d5dd}</style>${imgs}`);
    mkdirSync(join(REPO_ROOT, 'docs', 'images'), { recursive: true });
    writeFileSync(SCREENSHOT, await page.screenshot({ fullPage: true }));
    assert.ok(existsSync(SCREENSHOT));
  });
});
