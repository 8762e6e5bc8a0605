// How long a new user waits from `npm start` to the first ghost text: runs `npm start` (scripts/start.sh) as it is,
// with an empty shard cache and ledger of its own, then does what the sample's tour says in headless Chromium (log
// in with the printed password, open example.py, type `return ` in area_of_circle) and prints when each step was
// reached. Not a test: a measurement for the README (node extension/e2e/first-impression.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, repo } from '../editor/codeServer.mjs';
import { launchBrowser, logIn, typeReturnInAreaOfCircle, waitForGhostText } from './firstRun.mjs';
import { statusText, waitFor } from './harness.mjs';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'noir-first-impression-'));
const port = await freePort();
const t0 = Date.now();
const marks = [];
const mark = what => { marks.push({ what, seconds: (Date.now() - t0) / 1000 }); console.error(`${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`); };
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const loadBefore = load();
const start = spawn('bash', [path.join(repo, 'scripts', 'start.sh')], {
  cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, NOIR_EDITOR_PORT: String(port), XDG_CACHE_HOME: path.join(scratch, 'cache'), NOIR_LEDGER_DIR: path.join(scratch, 'ledger') },
});
let out = '';
const seen = new Set();
const onOutput = d => {
  out += d;
  for (const [needle, what] of [['== building the sidecar', 'setup checked'], ['== building the extension', 'sidecar built'], ['== starting VS Code', 'extension built']])
    if (out.includes(needle) && !seen.has(needle)) { seen.add(needle); mark(what); }
};
start.stdout.on('data', onOutput);
start.stderr.on('data', onOutput);
let browser;
try {
  const { url, password } = await waitFor('npm start to print the URL and password', () => {
    const u = out.match(/(http:\/\/127\.0\.0\.1:\d+\/\S*)/), p = out.match(/password: (\S+)/);
    return u && p && { url: u[1], password: p[1] };
  }, { timeoutMs: 900_000, intervalMs: 200 });
  mark('URL printed');
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await logIn(page, url, password);
  mark('workbench shown');
  await waitFor('the status bar to say demo keys', async () => (await statusText(page).catch(() => '')).includes('demo keys'), { timeoutMs: 300_000 });
  mark('model ready (status bar: demo keys)');
  await typeReturnInAreaOfCircle(page);
  const typed = Date.now();
  mark('typed `return `');
  const ghost = await waitForGhostText(page, 120_000);
  mark(`first ghost text (${JSON.stringify(ghost.split('\n')[0])}, ${((Date.now() - typed) / 1000).toFixed(1)} s after the last keystroke)`);
  console.log(JSON.stringify({ loadBefore, loadAfter: load(), cores: os.cpus().length, marks }, null, 2));
} finally {
  await browser?.close().catch(() => {});
  try { process.kill(-start.pid, 'SIGTERM'); } catch { /* gone */ }
  await new Promise(r => setTimeout(r, 3000));
  try { process.kill(-start.pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(scratch, { recursive: true, force: true });
}
