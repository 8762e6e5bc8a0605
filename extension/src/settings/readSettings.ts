import * as vscode from 'vscode';
import { ExtensionSettings } from './sidecarOptions';

export const section = 'noircode';
export const apiKeySecret = 'noircode.endpointApiKey';

export function readSettings(): ExtensionSettings {
  const c = vscode.workspace.getConfiguration(section);
  return {
    endpoint: c.get<string>('endpoint', ''),
    modelFolder: c.get<string>('modelFolder', ''),
    keysFolder: c.get<string>('keysFolder', ''),
    localModelFolder: c.get<string>('localModelFolder', ''),
    mode: c.get<string>('mode', 'split'),
    wire: c.get<string>('wire', 'f16'),
    exposureBudgetTokens: c.get<number | null>('exposureBudgetTokens', null),
    exposurePeriod: c.get<string>('exposurePeriod', 'day'),
    atLimit: c.get<string>('atLimit', 'block'),
    debounceMs: c.get<number | null>('debounceMs', null),
    enable: c.get<Record<string, boolean>>('enable', { '*': true }),
    sidecarPath: c.get<string>('sidecarPath', ''),
  };
}
