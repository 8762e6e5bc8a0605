import * as vscode from 'vscode';
import { endpointOrigins, serializeStoredKey } from '../settings/apiKeyBinding';
import { apiKeySecret, section } from '../settings/readSettings';
import { SidecarClient } from '../sidecar/sidecarClient';

/** "Switch mode": split (middle blocks on the endpoint) or local (the whole model here). A setting, so it persists. */
export async function switchMode(): Promise<void> {
  const current = vscode.workspace.getConfiguration(section).get<string>('mode', 'split');
  const pick = await vscode.window.showQuickPick([
    { label: 'split', description: 'middle blocks on the endpoint; only randomised hidden states leave this machine', picked: current === 'split' },
    { label: 'local', description: 'the whole model runs here; nothing leaves this machine (slower on large models)', picked: current === 'local' },
  ], { title: `NoirCode mode (now ${current})` });
  if (pick && pick.label !== current) await vscode.workspace.getConfiguration(section).update('mode', pick.label, vscode.ConfigurationTarget.Global);
}

/**
 * The endpoint API key lives in VS Code's secret storage, never in settings.json, bound to the origin(s) of the
 * endpoint it is entered for: a later endpoint change asks before the key goes anywhere else.
 */
export async function setApiKey(secrets: vscode.SecretStorage, endpoint: string): Promise<void> {
  const origins = endpointOrigins(endpoint);
  if (origins.length === 0) {
    void vscode.window.showWarningMessage('NoirCode: set noircode.endpoint (in your user settings) first: the API key is kept for the endpoint it is entered for.');
    return;
  }
  const key = await vscode.window.showInputBox({ title: `NoirCode API key for ${origins.join(', ')}`, password: true, ignoreFocusOut: true,
    prompt: `Kept in VS Code secret storage, sent only to ${origins.join(', ')}; never written to settings.` });
  if (key === undefined) return;
  if (key.trim() === '') await secrets.delete(apiKeySecret);
  else await secrets.store(apiKeySecret, serializeStoredKey({ key: key.trim(), origins }));
}

/**
 * "Rotate keys": new privacy keys with the same ε for the current model, through the sidecar
 * (noir.rotateKeys), then the keys folder setting points at them.
 */
export async function rotateKeys(sidecar: SidecarClient): Promise<void> {
  const keysFolder = vscode.workspace.getConfiguration(section).get<string>('keysFolder', '');
  if (!keysFolder) {
    void vscode.window.showInformationMessage('NoirCode: no privacy keys are configured, so there is nothing to rotate. Create keys with `noir keygen` and set noircode.keysFolder.');
    return;
  }
  const sure = await vscode.window.showWarningMessage(
    'Rotate the privacy keys? A model tuned with the old keys (noir tune) must be tuned again with the new ones.', { modal: true }, 'Rotate');
  if (sure !== 'Rotate') return;
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'NoirCode: generating new privacy keys…' },
      () => sidecar.executeCommand<{ keysFolder: string }>('noir.rotateKeys', [{ keysFolder }]));
    await vscode.workspace.getConfiguration(section).update('keysFolder', result.keysFolder, vscode.ConfigurationTarget.Global);
    void vscode.window.showInformationMessage(`NoirCode: new keys in ${result.keysFolder}.`);
  } catch (e) {
    void vscode.window.showWarningMessage(`NoirCode: the keys were not rotated: ${e instanceof Error ? e.message : String(e)}`);
  }
}
