import * as vscode from 'vscode';
import { generateFunction } from './commands/generateFunction';
import { offerAtLimit, rotateKeys, setApiKey, switchMode } from './commands/privacyActions';
import { PrivacyPanel } from './panel/privacyPanel';
import { commands } from './protocol';
import { allowOrigins, keyDecision, parseStoredKey, serializeStoredKey } from './settings/apiKeyBinding';
import { apiKeySecret, readSettings, section, workspaceOverrides } from './settings/readSettings';
import { needsRestart, StartedWith } from './sidecar/restartPolicy';
import { SidecarClient } from './sidecar/sidecarClient';
import { RequestHistory } from './status/requestHistory';
import { atLimitOfferKey } from './status/atLimit';
import { PrivacyStatusBar } from './status/statusBar';

let sidecar: SidecarClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  let paused = false;
  // Endpoints the user declined to send the key to, this session: asked once, not on every restart.
  const declined = new Set<string>();
  // What the running sidecar was started with: the endpoint and the stored key (with its origins); a change to
  // either restarts it (restartPolicy.ts).
  let running: StartedWith = { endpoint: readSettings().endpoint, storedKey: await context.secrets.get(apiKeySecret) };
  /** The API key, only for the endpoint origin(s) it was entered for; a new origin is asked about first. */
  const apiKey = async (): Promise<string | undefined> => {
    const endpoint = readSettings().endpoint;
    const stored = parseStoredKey(await context.secrets.get(apiKeySecret));
    const decision = keyDecision(stored, endpoint);
    if (decision.send) return decision.key;
    if (!decision.ask || !stored || declined.has(endpoint)) return undefined;
    const was = stored.origins.length ? stored.origins.join(', ') : 'an endpoint this version did not record';
    const choice = await vscode.window.showWarningMessage(
      `NoirCode: your endpoint API key was entered for ${was}. Send it to ${decision.newOrigins.join(', ')}?`,
      { modal: true, detail: 'noircode.endpoint changed. Only send the key to a host you trust with it; otherwise set the key for the new endpoint with "NoirCode: Set Endpoint API Key".' },
      'Send the key there');
    if (choice !== 'Send the key there') { declined.add(endpoint); return undefined; }
    const allowed = serializeStoredKey(allowOrigins(stored, decision.newOrigins));
    running.storedKey = allowed; // recording the new origin is not a new key: no second restart
    await context.secrets.store(apiKeySecret, allowed);
    return stored.key;
  };
  sidecar = new SidecarClient(context.extensionPath, {
    settings: readSettings, apiKey, sidecarPath: () => readSettings().sidecarPath, enable: () => readSettings().enable, paused: () => paused,
  });
  const overridden = workspaceOverrides();
  if (overridden.length) {
    sidecar.output.appendLine(`ignored: this workspace sets ${overridden.join(', ')}; these are taken from your user settings only`);
  }
  const client = sidecar;
  const statusBar = new PrivacyStatusBar();
  const history = new RequestHistory();
  // The panel takes the focus from the editor, so the security report uses the last text editor that had it.
  let lastEditor = vscode.window.activeTextEditor;
  const panel = new PrivacyPanel(() => ({ status: client.status, paused, mode: readSettings().mode, history: history.list() }),
    async () => (await client.executeCommand(commands.exposureLedger, { days: 14 })).rows,
    async () => {
      const editor = lastEditor;
      if (!editor || editor.document.isClosed) throw new Error('open a file and place the cursor in it first');
      const position = editor.selection.active;
      const result = await client.executeCommand(commands.promptSecurityReport,
        { uri: editor.document.uri.toString(), position: { line: position.line, character: position.character } });
      return { file: vscode.workspace.asRelativePath(editor.document.uri), result };
    });
  const refresh = () => { statusBar.update(client.status, paused); panel.render(); };
  // At the limit, the offer (rotate and re-tune, or local only) comes once per key and limit.
  const offered = new Set<string>();
  const offerIfSpent = (s: typeof client.status) => {
    const key = atLimitOfferKey(s);
    if (key === undefined || offered.has(key)) return;
    offered.add(key);
    void offerAtLimit(s, client);
  };

  context.subscriptions.push(client, statusBar, panel,
    vscode.window.onDidChangeActiveTextEditor(e => { if (e) lastEditor = e; }),
    client.onStatus(s => { if (history.add(s)) void panel.refreshLedger(); refresh(); offerIfSpent(s); }),
    vscode.commands.registerCommand('noircode.generateFunction', () => generateFunction(client)),
    vscode.commands.registerCommand('noircode.showPrivacyPanel', () => panel.show()),
    vscode.commands.registerCommand('noircode.restartSidecar', async () => { running = { ...running, endpoint: readSettings().endpoint }; await client.restart(); }),
    vscode.commands.registerCommand('noircode.showLogs', () => client.output.show()),
    vscode.commands.registerCommand('noircode.togglePause', () => { paused = !paused; refresh(); }),
    vscode.commands.registerCommand('noircode.switchMode', switchMode),
    vscode.commands.registerCommand('noircode.rotateKeys', () => rotateKeys(client)),
    vscode.commands.registerCommand('noircode.setApiKey', () => setApiKey(context.secrets, readSettings().endpoint)),
    vscode.commands.registerCommand('noircode.clearApiKey', () => context.secrets.delete(apiKeySecret)),
    vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration(section)) void settingsChanged(); }),
    context.secrets.onDidChange(e => { if (e.key === apiKeySecret) void settingsChanged(); }),
  );

  // The whole section goes to the sidecar, which replaces its settings with it; only a new endpoint or key restarts it.
  async function settingsChanged(): Promise<void> {
    const next = readSettings();
    const now: StartedWith = { endpoint: next.endpoint, storedKey: await context.secrets.get(apiKeySecret) };
    const restart = needsRestart(running, now);
    running = now;
    if (restart) await client.restart();
    else await client.sendSettings(next);
    refresh();
  }

  refresh();
  await client.start();
}

export async function deactivate(): Promise<void> {
  await sidecar?.stop();
}
