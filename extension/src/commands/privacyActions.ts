import * as vscode from 'vscode';
import { endpointOrigins, serializeStoredKey } from '../settings/apiKeyBinding';
import { apiKeySecret, readSettings, section } from '../settings/readSettings';
import { SidecarClient } from '../sidecar/sidecarClient';
import { atLimitMessage, details, localOnly, localOnlyChange, retuneSteps, rotateAndRetune } from '../status/atLimit';
import { commands, PrivacyStatus } from '../protocol';

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
 * "Rotate keys": new privacy keys with the same ε for the current model (the demo keys too), through the sidecar
 * (noir.rotateKeys); a tuned client is re-keyed and, when asked, re-tuned on this workspace's code against a fresh
 * endpoint adapter. Then the keys folder (and model folder) settings point at the new ones.
 * @param retune undefined: ask; true or false: already chosen (the at-limit offer)
 */
export async function rotateKeys(sidecar: SidecarClient, retune?: boolean): Promise<void> {
  const config = vscode.workspace.getConfiguration(section);
  // The user's keys folder, never a workspace's (machine-scoped: readSettings).
  const keysFolder = readSettings().keysFolder;
  if (retune === undefined) {
    const choice = await vscode.window.showWarningMessage('Rotate the privacy keys?', {
      modal: true,
      detail: 'New keys with the same ε: a new cipher, so the exposure count starts again for them. A tuned client is re-keyed; re-tuning trains it '
        + 'and a fresh endpoint adapter on this workspace\'s code (never its secret files), and what it sends is charged to the new keys.',
    }, 'Rotate and re-tune', 'Rotate only');
    if (choice === undefined) return;
    retune = choice === 'Rotate and re-tune';
  }
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: retune ? 'NoirCode: new privacy keys, then re-tuning…' : 'NoirCode: generating new privacy keys…' },
      () => sidecar.executeCommand(commands.rotateKeys, { ...(keysFolder ? { keysFolder } : {}), retuneSteps: retune ? retuneSteps : 0 }));
    await config.update('keysFolder', result.keysFolder, vscode.ConfigurationTarget.Global);
    if (result.clientFolder) await config.update('modelFolder', result.clientFolder, vscode.ConfigurationTarget.Global);
    const tuned = result.retunedSteps > 0 ? ` Re-tuned ${result.retunedSteps} steps (${result.retuneTokensSent} tokens sent under the new keys).` : '';
    const note = result.retuneNote ? ` ${result.retuneNote}.` : '';
    void vscode.window.showInformationMessage(`NoirCode: new keys in ${result.keysFolder}.${tuned}${note}`);
  } catch (e) {
    void vscode.window.showWarningMessage(`NoirCode: the keys were not rotated: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** At the limit: rotation with re-tuning, or local only, as one offer (see status/atLimit.ts). */
export async function offerAtLimit(s: PrivacyStatus, sidecar: SidecarClient): Promise<void> {
  const choices = s.keyLabel === 'none' ? [localOnly, details] : [rotateAndRetune, localOnly, details];
  const choice = await vscode.window.showWarningMessage(atLimitMessage(s), ...choices);
  if (choice === rotateAndRetune) await rotateKeys(sidecar, true);
  else if (choice === localOnly) {
    const config = vscode.workspace.getConfiguration(section);
    const { localModelFolder, modelFolder } = readSettings();
    const change = localOnlyChange({ localModelFolder: localModelFolder ?? '', modelFolder: modelFolder ?? '' });
    if (change) await config.update(change.setting, change.value, vscode.ConfigurationTarget.Global);
    else void vscode.window.showWarningMessage('NoirCode: nothing can complete on this machine yet: set noircode.localModelFolder to the whole model (your modelFolder is a client shard).');
  }
  else if (choice === details) await vscode.commands.executeCommand('noircode.showPrivacyPanel');
}
