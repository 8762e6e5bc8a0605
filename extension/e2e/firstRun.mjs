// What a new user does in the first minute of `npm start`, for the end-to-end test of the real default and for the
// first-impression timing: log in with the printed password, open example.py, type a
// line and wait for ghost text. Waits on conditions only, with generous limits (the machine may be shared).
import path from 'node:path';
import { createRequire } from 'node:module';
import { repo } from '../editor/codeServer.mjs';
import { activeEditor, openFile, waitFor } from './harness.mjs';

const { chromium } = createRequire(path.join(repo, 'tools', 'editor', 'package.json'))('playwright-core');

export async function launchBrowser() {
  return await chromium.launch({
    headless: true, executablePath: process.env.NOIR_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** code-server's login page (npm start runs behind a password), then the workbench. */
export async function logIn(page, url, password) {
  await page.goto(url);
  const field = page.locator('input[type="password"]');
  await field.waitFor({ timeout: 60_000 });
  await field.fill(password);
  await page.keyboard.press('Enter');
  await page.locator('.monaco-workbench').waitFor({ timeout: 120_000 });
}

export const ghostText = page => page.locator('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text').first();

/** The sample's tour, step 1: on the empty line of area_of_circle in example.py, type `return `. */
export async function typeReturnInAreaOfCircle(page) {
  await openFile(page, 'example.py');
  await activeEditor(page).click();
  await page.keyboard.press('Control+F');
  await page.keyboard.type('circle of the given radius');
  await page.keyboard.press('Escape');
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.type('return ', { delay: 40 });
}

export async function waitForGhostText(page, timeoutMs) {
  const ghost = ghostText(page);
  await waitFor('ghost text after typing "return " in example.py', () => ghost.isVisible(), { timeoutMs });
  return (await ghost.innerText()).replace(/\u00a0/g, ' ');
}
