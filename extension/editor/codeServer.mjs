// Runs code-server (VS Code in the browser, from npm) with the NoirCode extension installed in its own profile.
// Used by `npm start` (scripts/start-editor.mjs) and by the end-to-end tests. Needs Node 24 (scripts/setup.sh).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeServerLaunch } from './codeServerLaunch.mjs';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = path.join(repo, 'tools', 'editor', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const vsix = path.join(repo, 'extension', 'noircode.vsix');
// The sidecar's one build (scripts/noir and the solution build both write it); NOIR_SIDECAR_DLL overrides it.
export const sidecarDll = process.env.NOIR_SIDECAR_DLL || path.join(repo, 'artifacts', 'noir', 'noir.dll');

/** Quiet, deterministic workbench settings (no welcome page, no chat panel, no update checks). */
const baseSettings = {
  'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'extensions.ignoreRecommendations': true,
  'update.mode': 'none', 'workbench.tips.enabled': false, 'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'editor.inlineSuggest.enabled': true, 'chat.disableAIFeatures': true, 'workbench.enableExperiments': false,
  'workbench.colorTheme': 'Default Dark Modern', 'editor.minimap.enabled': false, 'window.commandCenter': false,
  'remote.autoForwardPorts': false,
};

export async function freePort() {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function codeServerArgs(profile) {
  return ['--user-data-dir', path.join(profile, 'user-data'), '--extensions-dir', path.join(profile, 'extensions')];
}

/**
 * A profile folder with the settings and the extension installed (from the .vsix `npm run package` builds).
 * `secure`: workspace trust on (npm start); otherwise off (the end-to-end tests' throwaway profile).
 */
export function prepareProfile(profile, settings = {}, { fresh = true, secure = false } = {}) {
  if (!existsSync(entry)) throw new Error(`code-server is not installed (${entry}); run scripts/setup.sh`);
  if (!existsSync(vsix)) throw new Error(`the extension package is missing (${vsix}); run npm run package`);
  if (fresh) rmSync(profile, { recursive: true, force: true });
  const userDir = path.join(profile, 'user-data', 'User');
  mkdirSync(userDir, { recursive: true });
  const file = path.join(userDir, 'settings.json');
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const trust = { 'security.workspace.trust.enabled': secure };
  writeFileSync(file, JSON.stringify({ ...baseSettings, ...existing, ...settings, ...trust }, null, 2));
  // code-server's extension host is a remote one: machine-scoped settings (noircode.endpoint, modelFolder, ...)
  // are read from the remote machine's settings there, not from the user's, so they go in both.
  const machineDir = path.join(profile, 'user-data', 'Machine');
  mkdirSync(machineDir, { recursive: true });
  const machineFile = path.join(machineDir, 'settings.json');
  const machineExisting = existsSync(machineFile) ? JSON.parse(readFileSync(machineFile, 'utf8')) : {};
  const machineScoped = Object.fromEntries(Object.entries(settings).filter(([k]) => k.startsWith('noircode.')));
  writeFileSync(machineFile, JSON.stringify({ ...machineExisting, ...machineScoped }, null, 2));
  const r = spawnSync(process.execPath, [entry, ...codeServerArgs(profile), '--install-extension', vsix, '--force'],
    { env: codeServerEnv(profile), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`installing the extension into code-server failed:\n${r.stdout}\n${r.stderr}`);
}

function codeServerEnv(profile, extra = {}) {
  // code-server writes its config.yaml under XDG_CONFIG_HOME: keep it inside the profile.
  return { ...process.env, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_DATA_HOME: path.join(profile, 'data'), ...extra };
}

/** Copies a workspace template (e.g. extension/sample-workspace) to `to`: files already there (your edits) are kept. */
export function prepareWorkspace(template, to, { fresh = false } = {}) {
  if (fresh) rmSync(to, { recursive: true, force: true });
  cpSync(template, to, { recursive: true, force: false, errorOnExist: false });
}

/**
 * Starts code-server on 127.0.0.1 and resolves once it listens; `secure` (npm start): behind a random password,
 * with workspace trust on (codeServerLaunch.mjs). The environment reaches the extension host, so
 * NOIRCODE_SIDECAR tells the extension which sidecar to run.
 */
export async function startCodeServer({ profile, workspace, port, env = {}, log, secure = false }) {
  const launch = codeServerLaunch({ entry, port, profileArgs: codeServerArgs(profile), workspace, secure });
  const child = spawn(process.execPath, launch.args, { env: codeServerEnv(profile, { NOIRCODE_SIDECAR: sidecarDll, ...env, ...launch.env }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const exited = new Promise(resolve => child.once('exit', code => resolve(code)));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not listen within 60 s:\n${output}`)), 60_000);
    const onData = chunk => {
      output += chunk; log?.(chunk);
      if (output.includes('HTTP server listening')) { clearTimeout(timer); resolve(); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(code => { clearTimeout(timer); reject(new Error(`code-server exited (${code}) before listening:\n${output}`)); });
  });
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
  return {
    url, process: child, exited, password: launch.password,
    /** Stops code-server and everything it started (its own process group: file watcher, extension host, sidecar). */
    async stop() {
      const group = sig => { try { process.kill(-child.pid, sig); } catch { /* already gone */ } };
      group('SIGTERM');
      const timeout = new Promise(r => setTimeout(r, 10_000, 'timeout'));
      if (child.exitCode === null && await Promise.race([exited, timeout]) === 'timeout') group('SIGKILL');
      // Children that outlive code-server for a moment (its file watcher) go with the group too.
      setTimeout(() => group('SIGKILL'), 1000).unref();
    },
  };
}
