import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { settingNames } from '../protocol';
import { machineScoped } from '../settings/machineScope';

// The bundled test runs from out/test: package.json is two folders up.
const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const properties: Record<string, { scope?: string; enum?: string[] }> = manifest.contributes.configuration.properties;

const whereCodeGoes = ['sidecarPath', 'endpoint', 'keysFolder', 'modelFolder', 'localModelFolder', 'trace.server'];

test('settings that choose what runs and where code goes are machine-scoped: a workspace cannot set them', () => {
  for (const key of whereCodeGoes) {
    assert.equal(properties[`noircode.${key}`]?.scope, 'machine', `noircode.${key}`);
    assert.ok((machineScoped as readonly string[]).includes(key), `readSettings also ignores a workspace's noircode.${key}`);
  }
  for (const key of ['allowCleartextEndpoint', 'allowUnprotectedEndpoint']) assert.equal(properties[`noircode.${key}`]?.scope, 'machine', key);
});

test('an untrusted workspace gets limited support and cannot set the restricted settings', () => {
  const untrusted = manifest.capabilities?.untrustedWorkspaces;
  assert.equal(untrusted?.supported, 'limited');
  for (const key of [...whereCodeGoes, 'allowCleartextEndpoint', 'allowUnprotectedEndpoint', 'exposureBudgetTokens', 'atLimit']) {
    assert.ok(untrusted.restrictedConfigurations.includes(`noircode.${key}`), `noircode.${key} restricted`);
  }
});

test('tracing offers no verbose level (it would log every document)', () => {
  assert.deepEqual(properties['noircode.trace.server'].enum, ['off', 'messages']);
});

test('protocol.ts names exactly the settings package.json contributes (the section forwarded to the sidecar)', () => {
  assert.deepEqual([...settingNames].sort(), Object.keys(properties).map(k => k.replace(/^noircode\./, '')).sort());
});
