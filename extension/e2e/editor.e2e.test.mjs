// End-to-end: the packaged extension in a real VS Code (code-server) in headless Chromium, the real sidecar, a
// real endpoint on loopback and the bundled model. The tests run in order on one editor session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { activeEditor, artifacts, editorText, openFile, runCommand, screenshot, startEditor, statusItem, statusText, waitFor } from './harness.mjs';

const budget = 20_000;
const percent = text => { const m = text.match(/([\d.]+)%/); return m ? Number(m[1]) : undefined; };

describe('NoirCode in VS Code', { timeout: 240_000 }, () => {
  let e;
  before(async () => {
    e = await startEditor({ settings: { 'noircode.trace.server': process.env.NOIR_E2E_TRACE ?? 'off', 'noircode.exposureBudgetTokens': budget, 'noircode.enable': { '*': true } } });
  });
  after(async () => { await e?.close(); });

  test('the status bar shows the mode, ε and exposure once the sidecar is ready', async () => {
    const text = await waitFor('the NoirCode status bar item to show ε and the exposure share',
      async () => { const t = await statusText(e.page); return /ε(∞|[\d.]+) · [\d.<]+%/.test(t) && t; }, { timeoutMs: 90_000 });
    assert.match(text, /\$?shield|ε/);
  });

  test('typing shows ghost text, Tab inserts it, and the exposure grows', async () => {
    const page = e.page;
    const before = percent(await statusText(page)) ?? 0;
    await openFile(page, 'example.py');
    await activeEditor(page).click();
    await page.keyboard.press('Control+End');
    const typed = 'def add(a, b):';
    await page.keyboard.type(typed, { delay: 40 });
    await page.keyboard.press('Enter');
    await page.keyboard.type('return a', { delay: 40 });
    const ghost = page.locator('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text').first();
    await waitFor('ghost text after typing "return a" in example.py', () => ghost.isVisible(), { timeoutMs: 45_000 })
      .catch(async err => { await screenshot(page, 'ghost-text-missing.png'); throw err; });
    const suggestion = (await ghost.innerText()).replace(/\u00a0/g, ' ');
    assert.ok(suggestion.trim().length > 0, 'the ghost text is not empty');
    await screenshot(page, 'ghost-text.png');
    await page.keyboard.press('Tab');
    const firstLine = suggestion.split('\n')[0];
    await waitFor(`the accepted suggestion "return a${firstLine}" in the editor`, async () => (await editorText(page)).includes('return a' + firstLine));
    await waitFor(`the exposure share to grow from ${before}%`, async () => (percent(await statusText(page)) ?? 0) > before);
  });

  test('Generate Function from the command palette writes a body', async () => {
    const page = e.page;
    await page.keyboard.press('Control+End');
    // The sample file ends with `def count_words(text):` and its docstring: put the cursor on that def line.
    await page.keyboard.press('Control+F');
    await page.keyboard.type('def count_words');
    await page.keyboard.press('Escape');
    const before = await editorText(page);
    await runCommand(page, 'NoirCode: Generate Function');
    const docstring = '"""Return how many words the text has."""';
    const body = await waitFor('a function body below the count_words docstring', async () => {
      const text = await editorText(page);
      if (text === before) return false;
      const after = text.split(docstring)[1] ?? '';
      const lines = after.split('\n').filter(l => l.trim().length > 0);
      return lines.length > 0 && /^ {4}\S/.test(lines[0]) && lines[0];
    }, { timeoutMs: 60_000 });
    assert.ok(body.trim().length > 0);
    await screenshot(page, 'generate-function.png');
  });

  test('the status bar item, its tooltip and the privacy panel with its pause action and security report', async () => {
    const page = e.page;
    await screenshot(page, 'status-bar.png', page.locator('#workbench\\.parts\\.statusbar'));
    // The tooltip: the last request's tokens, bytes and latency.
    await statusItem(page).hover();
    const hover = page.locator('.monaco-hover', { hasText: 'Last request' }).first();
    await hover.waitFor({ timeout: 15_000 });
    assert.match(await hover.innerText(), /Last request: \d+ tokens, [\d.]+ (B|KiB|MiB) sent, \d+ ms/);
    const box = await hover.boundingBox();
    const x = Math.max(0, box.x - 20), y = Math.max(0, box.y - 20);
    await page.screenshot({ path: `${artifacts}/status-tooltip.png`, clip: { x, y, width: 1400 - x, height: 900 - y } });
    await page.mouse.move(10, 10);
    await statusItem(page).click();
    await page.locator('.tab', { hasText: 'NoirCode Privacy' }).waitFor();
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await frame.locator('h1', { hasText: 'NoirCode privacy' }).waitFor({ timeout: 20_000 });
    await waitFor('a request in the panel\'s history', async () => (await frame.locator('#history table tr').count()) >= 2);
    await waitFor('the ledger in the panel', async () => (await frame.locator('#ledger table tr').count()) >= 2);
    await screenshot(page, 'privacy-panel.png');
    // The panel's actions work: pause, then resume.
    await frame.locator('button', { hasText: 'Pause completions' }).click();
    await waitFor('the status bar to show paused', async () => (await statusText(page)).includes('paused'));
    await frame.locator('button', { hasText: 'Resume completions' }).click();
    await waitFor('the status bar to leave paused', async () => !(await statusText(page)).includes('paused'));
    // The per-prompt security report: the attacks run in the sidecar on the prompt at the last editor's cursor.
    await frame.locator('button', { hasText: 'Attack the prompt at the cursor' }).click();
    const verdict = frame.locator('#security p', { hasText: /The cloud (wins|loses)/ });
    await verdict.waitFor({ timeout: 120_000 });
    assert.match(await verdict.innerText(), /of the \d+ prompt tokens/);
    await waitFor('a row per attack', async () => (await frame.locator('#security table tr').count()) >= 3);
    await screenshot(page, 'privacy-panel-security-report.png');
    await page.locator('.tab', { hasText: 'NoirCode Privacy' }).click();
    await page.keyboard.press('Control+W');
    await page.locator('.tab', { hasText: 'NoirCode Privacy' }).waitFor({ state: 'detached' });
  });

  test('a .env file: nothing reaches the endpoint', async () => {
    const page = e.page;
    const received = await e.endpoint.bytesReceived();
    await openFile(page, '.env');
    await activeEditor(page).click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('API_TOKEN=sk_live_', { delay: 40 });
    // The sidecar says why nothing is sent; wait for that, then check the endpoint's own counter.
    await waitFor('the status to say the sensitive file is not sent', async () => (await statusText(page)).includes('not sent'), { timeoutMs: 30_000 });
    await page.keyboard.type('abc', { delay: 40 });
    await page.keyboard.press('Alt+\\'); // an explicit request too
    await waitFor('the status to say the sensitive file is not sent', async () => (await statusText(page)).includes('not sent'));
    assert.equal(await e.endpoint.bytesReceived(), received, 'the endpoint received hidden states while a .env file was edited');
    assert.equal(await page.locator('.monaco-editor .ghost-text-decoration').count(), 0, 'no ghost text in a .env file');
  });

  test('stopping the endpoint shows offline', async () => {
    const page = e.page;
    await e.endpoint.stop();
    await openFile(page, 'example.py');
    await activeEditor(page).click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('x = len(', { delay: 40 });
    await waitFor('the status bar to show offline', async () => (await statusText(page)).includes('offline'), { timeoutMs: 60_000 });
    await screenshot(page, 'offline.png', page.locator('#workbench\\.parts\\.statusbar'));
  });
});
