import * as vscode from 'vscode';
import { NoirCodeSettings, settingsSection } from '../protocol';
import { forwardedSection } from './forwardedSection';
import { ignoredWorkspaceValues, Inspected } from './machineScope';

export const section = settingsSection;
export const apiKeySecret = 'noircode.endpointApiKey';

/** The `noircode` section as the sidecar gets it; where code goes and what runs: the user's settings only. */
export function readSettings(): NoirCodeSettings {
  const c = vscode.workspace.getConfiguration(section);
  return forwardedSection({ get: k => c.get(k), inspect: k => c.inspect(k) as Inspected<unknown> | undefined });
}

/** Machine-scoped settings that the open workspace tries to set (and that are ignored). */
export function workspaceOverrides(): string[] {
  const c = vscode.workspace.getConfiguration(section);
  return ignoredWorkspaceValues(k => c.inspect(k) as Inspected<unknown> | undefined);
}
