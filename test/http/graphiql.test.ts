import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { waitForActiveSubscriptions } from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';

/** Debian's Chromium (`.ci/run` installs it); playwright-core cannot download browsers here. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(tmpdir(), 'deskforge-graphiql-subscription.png');

describe('GraphiQL in a real browser', () => {
  let server: TestServer;
  let acme: TestAccount;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  /** Every URL the page asked for, WebSockets included. */
  const requested: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    acme = await createAccount(server.app, 'Acme');
    profile = mkdtempSync(join(tmpdir(), 'deskforge-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    browser.on('request', (request) => requested.push(request.url()));
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('websocket', (socket) => requested.push(socket.url()));
    page.setDefaultTimeout(8_000);
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    await server.stop();
  });

  /** The text of the CodeMirror editor matched by `selector`. */
  const editorText = (selector: string) =>
    page.evaluate(
      (sel) => (document.querySelector(sel) as (Element & { CodeMirror?: { getValue(): string } }) | null)?.CodeMirror?.getValue() ?? '',
      selector,
    );
  const QUERY = '.graphiql-query-editor .CodeMirror';
  /** The variables and headers editors share one pane; the inactive one is hidden. */
  const HEADERS = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
  const RESULT = '.result-window .CodeMirror';
  const resultShows = (text: string) =>
    page.waitForFunction(
      ([selector, wanted]) =>
        (document.querySelector(selector) as Element & { CodeMirror: { getValue(): string } }).CodeMirror.getValue().includes(wanted),
      [RESULT, text],
      { timeout: 10_000 },
    );

  it('runs a subscription with the key pasted in the headers and shows events live', async () => {
    await page.goto(`${server.url}`, { waitUntil: 'load' });
    await page.locator(QUERY).waitFor();
    expect(await editorText(QUERY)).toContain('subscription Live {');

    // Without a key, the subscription fails at once with the reason (no retries behind a spinner).
    await page.locator('.graphiql-execute-button').click();
    await page.getByRole('menuitem', { name: 'Live', exact: true }).click();
    await resultShows('4403');
    expect(await editorText(RESULT)).toContain('A valid API key is required');

    // Paste the key into the default header `{ "Authorization": "Bearer " }`, right after "Bearer ".
    const headers = page.locator(HEADERS);
    await headers.click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.insertText(acme.apiKey);
    expect(JSON.parse(await editorText(HEADERS))).toEqual({ Authorization: `Bearer ${acme.apiKey}` });

    // The document has several operations: the run button asks which one.
    await page.locator('.graphiql-execute-button').click();
    await page.getByRole('menuitem', { name: 'Live', exact: true }).click();
    await waitForActiveSubscriptions(server.app, 1);

    // A second client makes a change; the event appears in the result pane.
    const project = await gqlOk(server.url, 'mutation { createProject(input: { name: "Seen Live" }) { id } }', {}, acme.apiKey);
    await resultShows(project.createProject.id);
    const result = JSON.parse(await editorText(RESULT));
    expect(result.data.events).toMatchObject({
      type: 'PROJECT_CREATED',
      data: { project: { id: project.createProject.id, name: 'Seen Live' }, build: null },
    });

    // The next one replaces it, still on the same subscription.
    const queued = await gqlOk(
      server.url,
      'mutation ($id: ID!) { queueBuild(input: { projectId: $id, version: "1.2.3", platform: MAC, arch: UNIVERSAL }) { id } }',
      { id: project.createProject.id },
      acme.apiKey,
    );
    await resultShows(queued.queueBuild.id);
    await page.screenshot({ path: SCREENSHOT });

    // Stopping it in the UI ends the subscription on the server.
    await page.locator('.graphiql-execute-button').click();
    await waitForActiveSubscriptions(server.app, 0);

    const origin = new URL(server.url).host;
    expect(requested.length).toBeGreaterThan(3);
    expect(requested.filter((url) => new URL(url).host !== origin)).toEqual([]);
    expect(requested).toContain(server.url.replace(/^http/, 'ws'));
  });
});
