// The `noircode` section as the sidecar receives it: every setting as VS Code resolves it, except that settings
// which choose what runs and where code goes take the user's value only (machineScope.ts). No mapping and no
// defaults of its own: the sidecar reads the section (SidecarSettings.cs). Pure, unit-tested.
import { NoirCodeSettings, settingNames } from '../protocol';
import { Inspected, isMachineScoped, machineValue } from './machineScope';

/** What this needs of vscode.WorkspaceConfiguration. */
export interface SettingsSource {
  get(key: string): unknown;
  inspect(key: string): Inspected<unknown> | undefined;
}

export function forwardedSection(source: SettingsSource): NoirCodeSettings {
  const section: Record<string, unknown> = {};
  for (const name of settingNames) {
    // Never a workspace's value for a machine-scoped setting, even as a fallback: unset, the sidecar's default.
    const value = isMachineScoped(name) ? machineValue(source.inspect(name), undefined) : source.get(name);
    // A dotted name nests, as in VS Code's own section object: trace.server is { trace: { server } }.
    const path = name.split('.');
    let at = section;
    for (const part of path.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[path[path.length - 1]] = value;
  }
  return section as unknown as NoirCodeSettings;
}
