// What the end-to-end tests stand on: a real endpoint process on loopback (so a test can stop it), code-server
// with the packaged extension, the real sidecar, Debian's Chromium driven by playwright-core, and helpers that
// wait on conditions (never fixed sleeps) and fail with a message that says what was awaited.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { freePort, prepareProfile, prepareWorkspace, repo, sidecarDll, startCodeServer } from '../editor/codeServer.mjs';

// playwright-core is installed with code-server in tools/editor (scripts/setup.sh).
const { chromium } = createRequire(path.join(repo, 'tools', 'editor', 'package.json'))('playwright-core');

export const artifacts = path.join(repo, 'artifacts', 'e2e');
export const bundledModel = path.join(repo, 'models', 'noir-coder-8m');

export async function waitFor(what, check, { timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { const v = await check(); if (v) return v; last = v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? `: ${last.message}` : last !== undefined ? ` (last seen: ${JSON.stringify(last)})` : ''}`);
    await new Promise(r => setTimeout(r, intervalMs));
  }
}

/** `noir cloud serve` on a free loopback port, for the middle blocks of the split model. */
export async function startEndpoint(cloudShard, logFile) {
  const child = spawn('dotnet', [sidecarDll, 'cloud', 'serve', '--shard', cloudShard, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the endpoint did not start within 60 s: ${out}`)), 60_000);
    child.stdout.on('data', d => {
      out += d; log.write(d);
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, '')); }
    });
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`the endpoint exited (${code}) before listening: ${out}`)); });
  });
  return {
    url, process: child,
    /** The endpoint's own count of hidden-state bytes it received (its /metrics). */
    async bytesReceived() {
      const text = await http2Get(`${url}/metrics`);
      const m = text.match(/^noir_bytes_received_total (\d+)/m);
      if (!m) throw new Error(`no noir_bytes_received_total in /metrics:\n${text}`);
      return Number(m[1]);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A GET over cleartext HTTP/2: the endpoint serves only HTTP/2 on loopback (gRPC beside /metrics). */
async function http2Get(url) {
  const session = http2.connect(new URL(url).origin);
  try {
    return await new Promise((resolve, reject) => {
      session.once('error', reject);
      const req = session.request({ ':path': new URL(url).pathname });
      let body = '';
      req.setEncoding('utf8');
      req.on('data', d => { body += d; });
      req.once('end', () => resolve(body));
      req.once('error', reject);
      req.end();
    });
  } finally { session.close(); }
}

/** Everything for one run: split model, endpoint, code-server with the extension, browser page. */
export async function startEditor({ settings }) {
  mkdirSync(artifacts, { recursive: true });
  const root = mkdtempSync(path.join(os.tmpdir(), 'noir-e2e-'));
  const split = spawnSync('dotnet', [sidecarDll, 'split', '--model', bundledModel, '--client-out', path.join(root, 'client'), '--cloud-out', path.join(root, 'cloud')], { encoding: 'utf8' });
  if (split.status !== 0) throw new Error(`noir split failed: ${split.stderr}`);
  const endpoint = await startEndpoint(path.join(root, 'cloud'), path.join(artifacts, 'endpoint.log'));
  const workspace = path.join(root, 'workspace');
  prepareWorkspace(path.join(repo, 'extension', 'sample-workspace'), workspace, { fresh: true });
  const profile = path.join(root, 'profile');
  prepareProfile(profile, {
    'noircode.endpoint': endpoint.url, 'noircode.modelFolder': path.join(root, 'client'), ...settings,
  });
  const serverLog = createWriteStream(path.join(artifacts, 'code-server.log'));
  const server = await startCodeServer({
    profile, workspace, port: await freePort(), log: c => serverLog.write(c),
    // The test's own ledger and cache, so it neither reads nor charges yours.
    env: { NOIR_LEDGER_DIR: path.join(root, 'ledger'), XDG_CACHE_HOME: path.join(root, 'cache') },
  });
  const browser = await chromium.launch({
    headless: true, executablePath: process.env.NOIR_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleLog = createWriteStream(path.join(artifacts, 'browser-console.log'));
  page.on('console', m => { if (m.type() === 'error') consoleLog.write(m.text() + '\n'); });
  await page.goto(server.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  return {
    root, workspace, endpoint, server, browser, page,
    async close() {
      await browser.close().catch(() => {});
      await server.stop();
      copyLogs(profile);
      await endpoint.stop();
      serverLog.end(); consoleLog.end();
      // The sidecar exits when the extension host goes; wait for it rather than leave it behind.
      await waitFor('the sidecar to exit with code-server', () => !sidecarRunning(root), { timeoutMs: 20_000 }).catch(e => console.error(e.message));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The extension's output channel (the sidecar's log) and the extension host's log, for a failed run. */
function copyLogs(profile) {
  const logs = path.join(profile, 'user-data', 'logs');
  const walk = dir => readdirSync(dir, { withFileTypes: true }).flatMap(d => d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]);
  try {
    for (const f of walk(logs)) {
      if (f.endsWith('NoirCode.log')) cpSync(f, path.join(artifacts, 'sidecar-output.log'));
      if (f.endsWith('exthost.log')) cpSync(f, path.join(artifacts, 'exthost.log'));
    }
  } catch (e) { console.error(`could not copy the logs: ${e.message}`); }
}

/** Is a sidecar (`noir.dll lsp`) started for this run still alive? Found by the ledger folder in its environment. */
function sidecarRunning(root) {
  const marker = `NOIR_LEDGER_DIR=${path.join(root, 'ledger')}`;
  for (const pid of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('noir.dll') && readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(marker)) return true;
    } catch { /* gone meanwhile */ }
  }
  return false;
}

// --- workbench helpers -------------------------------------------------------------------------------------

export const statusItem = page => page.locator('#workbench\\.parts\\.statusbar [id$="noircode.status"]');

export async function statusText(page) {
  return (await statusItem(page).innerText()).replace(/\u00a0/g, ' ').trim();
}

export async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill('>' + title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

export async function openFile(page, name) {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click();
  await page.locator('.editor-group-container.active .tab.active', { hasText: name }).waitFor();
  const lines = activeEditor(page);
  await lines.waitFor();
  return lines;
}

/** The text area of the editor in the active editor group (the privacy panel may be open in another group). */
export const activeEditor = page => page.locator('.editor-group-container.active .editor-instance .monaco-editor .view-lines').first();

export async function editorText(page) {
  return (await activeEditor(page).innerText()).replace(/\u00a0/g, ' ');
}

export async function screenshot(page, name, locator) {
  const file = path.join(artifacts, name);
  await (locator ?? page).screenshot({ path: file });
  return file;
}
