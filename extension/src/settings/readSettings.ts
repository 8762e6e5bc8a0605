import * as vscode from 'vscode';
import { ignoredWorkspaceValues, Inspected, machineValue } from './machineScope';
import { ExtensionSettings } from './sidecarOptions';

export const section = 'noircode';
export const apiKeySecret = 'noircode.endpointApiKey';

export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration(section);
  // Where code goes and what runs: the user's settings only (machineScope.ts), whatever a workspace says.
  const machine = <T>(key: string, fallback: T): T => machineValue(c.inspect<T>(key), fallback);
  return {
    endpoint: machine('endpoint', ''),
    modelFolder: machine('modelFolder', ''),
    keysFolder: machine('keysFolder', ''),
    localModelFolder: machine('localModelFolder', ''),
    mode: c.get<string>('mode', 'split'),
    wire: c.get<string>('wire', 'f16'),
    exposureBudgetTokens: c.get<number | null>('exposureBudgetTokens', null),
    exposurePeriod: c.get<string>('exposurePeriod', 'day'),
    atLimit: c.get<string>('atLimit', 'block'),
    debounceMs: c.get<number | null>('debounceMs', null),
    enable: c.get<Record<string, boolean>>('enable', { '*': true }),
    sidecarPath: machine('sidecarPath', ''),
    allowCleartextEndpoint: machine('allowCleartextEndpoint', false),
    allowUnprotectedEndpoint: machine('allowUnprotectedEndpoint', false),
    speculativeDecoding: c.get<boolean>('speculativeDecoding', true),
  };
}

/** Machine-scoped settings that the open workspace tries to set (and that are ignored). */
export function workspaceOverrides(): string[] {
  const c = vscode.workspace.getConfiguration(section);
  return ignoredWorkspaceValues(k => c.inspect(k) as Inspected<unknown> | undefined);
}
