import * as vscode from 'vscode';
import { generateFunction } from './commands/generateFunction';
import { rotateKeys, setApiKey, switchMode } from './commands/privacyActions';
import { LedgerRow } from './panel/panelHtml';
import { PrivacyPanel } from './panel/privacyPanel';
import { PromptSecurityResult } from './panel/securityReport';
import { apiKeySecret, readSettings, section } from './settings/readSettings';
import { needsRestart, SidecarOptions, toSidecarOptions } from './settings/sidecarOptions';
import { SidecarClient } from './sidecar/sidecarClient';
import { RequestHistory } from './status/requestHistory';
import { PrivacyStatusBar } from './status/statusBar';

let sidecar: SidecarClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  let paused = false;
  const options = async (): Promise<SidecarOptions> => toSidecarOptions(readSettings(), await context.secrets.get(apiKeySecret));
  sidecar = new SidecarClient(context.extensionPath, {
    options, sidecarPath: () => readSettings().sidecarPath, enable: () => readSettings().enable, paused: () => paused,
  });
  const client = sidecar;
  const statusBar = new PrivacyStatusBar();
  const history = new RequestHistory();
  // The panel takes the focus from the editor, so the security report uses the last text editor that had it.
  let lastEditor = vscode.window.activeTextEditor;
  const panel = new PrivacyPanel(() => ({ status: client.status, paused, mode: readSettings().mode, history: history.list() }),
    async () => (await client.executeCommand<{ rows: LedgerRow[] }>('noir.exposureLedger', [{ days: 14 }])).rows,
    async () => {
      const editor = lastEditor;
      if (!editor || editor.document.isClosed) throw new Error('open a file and place the cursor in it first');
      const position = editor.selection.active;
      const result = await client.executeCommand<PromptSecurityResult>('noir.promptSecurityReport',
        [{ uri: editor.document.uri.toString(), position: { line: position.line, character: position.character } }]);
      return { file: vscode.workspace.asRelativePath(editor.document.uri), result };
    });
  const refresh = () => { statusBar.update(client.status, paused); panel.render(); };
  let sent = await options();

  context.subscriptions.push(client, statusBar, panel,
    vscode.window.onDidChangeActiveTextEditor(e => { if (e) lastEditor = e; }),
    client.onStatus(s => { if (history.add(s)) void panel.refreshLedger(); refresh(); }),
    vscode.commands.registerCommand('noircode.generateFunction', () => generateFunction(client)),
    vscode.commands.registerCommand('noircode.showPrivacyPanel', () => panel.show()),
    vscode.commands.registerCommand('noircode.restartSidecar', async () => { await client.restart(); sent = await options(); }),
    vscode.commands.registerCommand('noircode.showLogs', () => client.output.show()),
    vscode.commands.registerCommand('noircode.togglePause', () => { paused = !paused; refresh(); }),
    vscode.commands.registerCommand('noircode.switchMode', switchMode),
    vscode.commands.registerCommand('noircode.rotateKeys', () => rotateKeys(client)),
    vscode.commands.registerCommand('noircode.setApiKey', () => setApiKey(context.secrets)),
    vscode.commands.registerCommand('noircode.clearApiKey', () => context.secrets.delete(apiKeySecret)),
    vscode.workspace.onDidChangeConfiguration(e => { if (e.affectsConfiguration(section)) void settingsChanged(); }),
    context.secrets.onDidChange(e => { if (e.key === apiKeySecret) void settingsChanged(); }),
  );

  // A setting the sidecar cannot take back while running (or the sidecar's path) needs a fresh start.
  async function settingsChanged(): Promise<void> {
    const next = await options();
    if (needsRestart(sent, next)) await client.restart();
    else await client.sendSettings(next);
    sent = next;
    refresh();
  }

  refresh();
  await client.start();
}

export async function deactivate(): Promise<void> {
  await sidecar?.stop();
}
