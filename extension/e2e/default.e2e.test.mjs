// End-to-end: the real default, as `npm start` runs it. No noircode settings at all: the sidecar runs the embedded
// default (the bundled model under the shipped demo keys, the client shard tuned for them, a local endpoint process
// on loopback), code-server behind a password with workspace trust on. Its own code-server, profile, cache and ledger.
import assert from 'node:assert/strict';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, prepareProfile, prepareWorkspace, repo, startCodeServer } from '../editor/codeServer.mjs';
import { launchBrowser, logIn, typeReturnInAreaOfCircle, waitForGhostText } from './firstRun.mjs';
import { activeEditor, artifacts, editorText, openFile, runCommand, screenshot, statusText, waitFor } from './harness.mjs';

describe('the default of npm start in VS Code', { timeout: 420_000 }, () => {
  let root, server, browser, page, serverLog;
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    root = mkdtempSync(path.join(os.tmpdir(), 'noir-e2e-default-'));
    const workspace = path.join(root, 'workspace');
    prepareWorkspace(path.join(repo, 'extension', 'sample-workspace'), workspace, { fresh: true });
    // A file in a language the bundled model does not know, for the language gating test.
    writeFileSync(path.join(workspace, 'app.js'), 'function area(radius) {\n  return Math.PI * radius * radius;\n}\n');
    const profile = path.join(root, 'profile');
    prepareProfile(profile, {}, { fresh: true, secure: true }); // npm start's settings: none of NoirCode's
    serverLog = createWriteStream(path.join(artifacts, 'default-code-server.log'));
    server = await startCodeServer({
      profile, workspace, port: await freePort(), secure: true, log: c => serverLog.write(c),
      // Only where the shard cache and the ledger go differ from npm start: the test must not use or charge yours.
      env: { NOIR_LEDGER_DIR: path.join(root, 'ledger'), XDG_CACHE_HOME: path.join(root, 'cache') },
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await logIn(page, server.url, server.password);
    // Workspace trust is on, and code-server opens the folder in Restricted Mode with a banner (no dialog): the
    // extension supports that mode, so this test goes on as a user who has not trusted the folder yet would.
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
    serverLog?.end();
    // The NoirCode output channel (the sidecar's log: events and counts, never code), for a failed run.
    const walk = dir => readdirSync(dir, { withFileTypes: true }).flatMap(d => d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]);
    try { for (const f of walk(path.join(root, 'profile', 'user-data', 'logs'))) if (f.endsWith('NoirCode.log')) cpSync(f, path.join(artifacts, 'default-sidecar-output.log')); }
    catch (e) { console.error(`could not copy the logs: ${e.message}`); }
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('the status bar says demo keys once the embedded default is ready', async () => {
    const text = await waitFor('the status bar to show ε208 (16 tables at ε 13) and "demo keys"', async () => {
      const t = await statusText(page); return /ε208 · .* · demo keys/.test(t) && t;
    }, { timeoutMs: 180_000 });
    assert.match(text, /demo keys/);
  });

  test('typing `return ` in area_of_circle of example.py (the sample\'s tour) shows ghost text, and Tab inserts it', async () => {
    await typeReturnInAreaOfCircle(page);
    const suggestion = await waitForGhostText(page, 90_000)
      .catch(async err => { await screenshot(page, 'default-ghost-text-missing.png'); throw err; });
    assert.ok(suggestion.trim().length > 0, 'the ghost text is not empty');
    await screenshot(page, 'default-ghost-text.png');
    await page.keyboard.press('Tab');
    const firstLine = suggestion.split('\n')[0];
    await waitFor(`the accepted suggestion "return ${firstLine}" in the editor`, async () => (await editorText(page)).includes('    return ' + firstLine.trimStart()));
  });

  test('Generate Function writes a body under the count_words docstring', async () => {
    await page.keyboard.press('Control+F');
    await page.keyboard.type('def count_words');
    await page.keyboard.press('Escape');
    const before = await editorText(page);
    await runCommand(page, 'NoirCode: Generate Function');
    const docstring = '"""Return how many words the text has."""';
    const body = await waitFor('a function body below the count_words docstring', async () => {
      const text = await editorText(page);
      if (text === before) return false;
      const lines = (text.split(docstring)[1] ?? '').split('\n').filter(l => l.trim().length > 0);
      return lines.length > 0 && /^ {4}\S/.test(lines[0]) && lines[0];
    }, { timeoutMs: 240_000 }).catch(async err => { await screenshot(page, 'default-generate-function-missing.png'); throw err; });
    assert.ok(body.trim().length > 0);
    await screenshot(page, 'default-generate-function.png');
  });

  test('a JavaScript file gets no ghost text and the status bar says the model knows Python only', async () => {
    await openFile(page, 'app.js');
    await activeEditor(page).click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('const r = ', { delay: 40 });
    await page.keyboard.press('Alt+\\'); // an explicit request too
    await waitFor('the status bar to say "no javascript (model: python)"', async () => (await statusText(page)).includes('no javascript (model: python)'), { timeoutMs: 60_000 });
    assert.equal(await page.locator('.monaco-editor .ghost-text-decoration').count(), 0, 'no ghost text in a JavaScript file');
    await screenshot(page, 'default-language-gating.png', page.locator('#workbench\\.parts\\.statusbar'));
  });
});
