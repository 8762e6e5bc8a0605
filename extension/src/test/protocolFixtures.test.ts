import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { commands, completionStatsRequest, privacyStatusNotification, SidecarCommand } from '../protocol';
import * as shapes from './protocolShapes';

// tests/fixtures/protocol: one example of each message, also read by the sidecar's ProtocolFixtureTests with its own
// types. The bundled test runs from extension/out/test.
const extensionRoot = path.join(__dirname, '..', '..');
const folder = path.join(extensionRoot, '..', 'tests', 'fixtures', 'protocol');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const fixture = (name: string): any => JSON.parse(readFileSync(path.join(folder, `${name}.json`), 'utf8'));

function fits(value: unknown, kind: shapes.Kind, what: string, complete = true): void {
  assert.deepEqual(shapes.problems(value, kind, what, complete), [], `${what} does not fit protocol.ts`);
}

const commandFixtures: Record<SidecarCommand, { file: string; args: shapes.Kind; result: shapes.Kind }> = {
  [commands.generateFunction]: { file: 'generateFunction', args: shapes.generateFunctionArguments, result: shapes.generatedFunction },
  [commands.exposureLedger]: { file: 'exposureLedger', args: shapes.exposureLedgerArguments, result: shapes.exposureLedgerResult },
  [commands.rotateKeys]: { file: 'rotateKeys', args: shapes.rotateKeysArguments, result: shapes.rotateKeysResult },
  [commands.promptSecurityReport]: { file: 'promptSecurityReport', args: shapes.promptSecurityArguments, result: shapes.promptSecurityResult },
};

for (const [command, { file, args, result }] of Object.entries(commandFixtures)) {
  test(`${command}: the example's argument and result fit protocol.ts`, () => {
    const f = fixture(file);
    assert.equal(f.method, 'workspace/executeCommand');
    assert.equal(f.command, command);
    assert.equal(f.arguments.length, 1, 'one argument object');
    fits(f.arguments[0], args, 'arguments[0]');
    fits(f.result, result, 'result');
  });
}

test('noir/privacyStatus: the example fits protocol.ts', () => {
  const f = fixture('privacyStatus');
  assert.equal(f.method, privacyStatusNotification);
  fits(f.params, shapes.privacyStatus, 'params');
});

test('noir/completionStats: the example fits protocol.ts', () => {
  const f = fixture('completionStats');
  assert.equal(f.method, completionStatsRequest);
  fits(f.result, shapes.completionStats, 'result');
});

test('settings: initializationOptions and workspace/didChangeConfiguration carry the whole section, never the API key', () => {
  const f = fixture('settings');
  fits(f.initializationOptions, shapes.settings, 'initializationOptions');
  assert.equal(f.didChangeConfiguration.method, 'workspace/didChangeConfiguration');
  fits(f.didChangeConfiguration.params, shapes.didChangeConfiguration, 'params');
  assert.doesNotMatch(JSON.stringify(f), /apiKey/);
  // The change example is every setting cleared: package.json's defaults, which the sidecar takes as its own.
  const properties: Record<string, { default: unknown }> = JSON.parse(readFileSync(path.join(extensionRoot, 'package.json'), 'utf8')).contributes.configuration.properties;
  const cleared = f.didChangeConfiguration.params.settings.noircode;
  for (const [key, p] of Object.entries(properties)) {
    const value = key.replace(/^noircode\./, '').split('.').reduce((o, part) => o?.[part], cleared);
    assert.deepEqual(value, p.default, key);
  }
});

test('the check itself: a renamed or missing field, or a wrong kind, is caught', () => {
  const status = fixture('privacyStatus').params;
  const { exposureUsed, ...renamed } = { ...status, exposureSpent: status.exposureUsed };
  assert.ok(exposureUsed !== undefined);
  assert.deepEqual(shapes.problems(renamed, shapes.privacyStatus, 'p', true), ['p.exposureSpent: not in protocol.ts', 'p.exposureUsed: missing']);
  assert.deepEqual(shapes.problems({ ...status, demo: 'no' }, shapes.privacyStatus, 'p', true), ['p.demo: string, not boolean']);
  const { detail, ...lean } = status;
  assert.ok(detail !== undefined);
  assert.deepEqual(shapes.problems(lean, shapes.privacyStatus, 'p', false), [], 'an optional field may be absent on the wire');
});

test('every example is checked and every custom method has one', () => {
  const files = readdirSync(folder).filter(f => f.endsWith('.json')).map(f => f.replace(/\.json$/, '')).sort();
  assert.deepEqual(files, [...Object.values(commandFixtures).map(c => c.file), 'completionStats', 'privacyStatus', 'settings'].sort());
});

// The shapes are typed against protocol.ts: a field renamed there but not in its shape is a type error. esbuild
// does not type-check, so this test does (about 5 s).
test('protocol.ts and its runtime shapes agree (tsc)', () => {
  const tsc = path.join(extensionRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', extensionRoot, '--noEmit'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(String((e as { stdout?: string }).stdout || e));
  }
});
