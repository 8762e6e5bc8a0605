import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { settingNames } from '../protocol';
import { forwardedSection, SettingsSource } from '../settings/forwardedSection';
import { Inspected } from '../settings/machineScope';

// The bundled test runs from out/test: package.json is two folders up.
const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const properties: Record<string, { default?: unknown }> = manifest.contributes.configuration.properties;
const defaults = (name: string) => properties[`noircode.${name}`].default;

/** A configuration like VS Code's: the manifest's defaults under the user's values under a workspace's. */
function configuration(user: Record<string, unknown> = {}, workspace: Record<string, unknown> = {}): SettingsSource {
  const inspect = (k: string): Inspected<unknown> => ({ defaultValue: defaults(k), globalValue: user[k], workspaceValue: workspace[k] });
  return { inspect, get: k => workspace[k] ?? user[k] ?? defaults(k) };
}

test('the section is forwarded as VS Code resolves it, every setting, trace.server nested as in VS Code', () => {
  const s = forwardedSection(configuration({ exposureBudgetTokens: 5000, mode: 'local' }, { debounceMs: 80 }));
  assert.equal(s.exposureBudgetTokens, 5000);
  assert.equal(s.mode, 'local');
  assert.equal(s.debounceMs, 80, 'a workspace may set what is not machine-scoped');
  assert.deepEqual(s.enable, { '*': true, plaintext: false, markdown: false });
  assert.deepEqual(s.trace, { server: 'off' });
  assert.equal(Object.keys(s).length, new Set(settingNames.map(n => n.split('.')[0])).size);
});

test('a cleared setting is forwarded as its default, which replaces the set value in the sidecar (no restart)', () => {
  const before = forwardedSection(configuration({ exposureBudgetTokens: 5000, debounceMs: 120 }));
  const after = forwardedSection(configuration({ debounceMs: 120 }));
  assert.equal(before.exposureBudgetTokens, 5000);
  assert.equal(after.exposureBudgetTokens, null);
  assert.ok('exposureBudgetTokens' in after, 'sent, so the sidecar does not keep the old value');
});

test("a workspace's value of a machine-scoped setting is never forwarded: the user's, the default, or nothing", () => {
  const s = forwardedSection(configuration({ keysFolder: '/mine' }, { endpoint: 'http://attacker:80', keysFolder: '/evil', sidecarPath: '/tmp/x', allowUnprotectedEndpoint: true }));
  assert.equal(s.endpoint, '');
  assert.equal(s.keysFolder, '/mine');
  assert.equal(s.sidecarPath, '');
  assert.equal(s.allowUnprotectedEndpoint, false);
  // No default known (another editor): unset, never the workspace's.
  const bare: SettingsSource = { inspect: k => ({ workspaceValue: k === 'endpoint' ? 'http://attacker:80' : undefined }), get: () => 'http://attacker:80' };
  assert.equal(forwardedSection(bare).endpoint, undefined);
});

test('the API key is never in the section (message tracing would record it)', () => {
  const s = forwardedSection(configuration({ endpoint: 'https://e.example:7450' }));
  assert.doesNotMatch(JSON.stringify(s), /apiKey|endpointApiKey/);
});
