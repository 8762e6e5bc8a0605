// Settings that choose what runs and where your code goes are machine-scoped in package.json, so VS Code ignores a
// workspace's values for them. This module repeats that rule in code (pure, unit-tested): an editor or VS Code
// version that does not enforce the scope must still never take these from a folder's .vscode/settings.json.

/** Keys (without the `noircode.` prefix) that only the user's own settings may set. */
export const machineScoped = [
  'sidecarPath', 'endpoint', 'keysFolder', 'modelFolder', 'localModelFolder', 'trace.server',
  'allowCleartextEndpoint', 'allowUnprotectedEndpoint',
] as const;

export function isMachineScoped(key: string): boolean {
  return (machineScoped as readonly string[]).includes(key);
}

/** The part of vscode.WorkspaceConfiguration.inspect() this needs. */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The user's value (or the default), never a workspace's. */
export function machineValue<T>(inspected: Inspected<T> | undefined, fallback: T): T {
  if (inspected?.globalValue !== undefined) return inspected.globalValue;
  if (inspected?.defaultValue !== undefined) return inspected.defaultValue;
  return fallback;
}

/** Settings a workspace tried to set that are ignored, for one line in the log (names only, never values). */
export function ignoredWorkspaceValues(inspect: (key: string) => Inspected<unknown> | undefined): string[] {
  return machineScoped.filter(k => {
    const i = inspect(k);
    return i?.workspaceValue !== undefined || i?.workspaceFolderValue !== undefined;
  }).map(k => `noircode.${k}`);
}
