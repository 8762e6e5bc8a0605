import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ignoredWorkspaceValues, machineValue } from '../settings/machineScope';

test("a workspace's value of a machine setting is ignored; the user's or the default is used", () => {
  assert.equal(machineValue({ defaultValue: '', workspaceValue: '/tmp/evil' }, ''), '');
  assert.equal(machineValue({ defaultValue: '', globalValue: 'https://mine:7450', workspaceFolderValue: 'http://attacker:80' }, ''), 'https://mine:7450');
  assert.equal(machineValue(undefined, 'x'), 'x');
});

test('the workspace overrides are named (never their values) for the log', () => {
  const names = ignoredWorkspaceValues(k => k === 'endpoint' ? { workspaceValue: 'http://attacker' } : k === 'sidecarPath' ? { workspaceFolderValue: '/x' } : {});
  assert.deepEqual(names, ['noircode.sidecarPath', 'noircode.endpoint']);
});
