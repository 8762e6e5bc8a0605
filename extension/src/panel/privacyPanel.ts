import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { LedgerRow, PromptSecurityResult } from '../protocol';
import { PanelState, renderPanel, renderPanelBody } from './panelHtml';
import { SecurityReportState } from './securityReport';

/** The privacy panel (a webview): built from PanelState, actions go back as commands. */
export class PrivacyPanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private ledger?: readonly LedgerRow[];
  private ledgerError?: string;
  private security?: SecurityReportState;

  /** @param attackPrompt the security report for the prompt at the last editor's cursor, with the file's name */
  constructor(private readonly state: () => Omit<PanelState, 'ledger' | 'ledgerError' | 'security'>,
    private readonly loadLedger: () => Promise<readonly LedgerRow[]>,
    private readonly attackPrompt: () => Promise<{ file: string; result: PromptSecurityResult }>) {}

  async show(): Promise<void> {
    if (this.panel) { this.panel.reveal(); await this.refreshLedger(); return; }
    this.panel = vscode.window.createWebviewPanel('noircode.privacy', 'NoirCode Privacy', vscode.ViewColumn.Beside,
      { enableScripts: true, localResourceRoots: [] });
    this.panel.onDidDispose(() => { this.panel = undefined; });
    this.panel.webview.onDidReceiveMessage(async (m: { action?: string }) => {
      const commands: Record<string, string> = {
        togglePause: 'noircode.togglePause', switchMode: 'noircode.switchMode', rotateKeys: 'noircode.rotateKeys',
      };
      if (m.action && commands[m.action]) await vscode.commands.executeCommand(commands[m.action]);
      if (m.action === 'refresh') await this.refreshLedger();
      if (m.action === 'securityReport') await this.runSecurityReport();
      this.render();
    });
    this.load();
    await this.refreshLedger();
  }

  private pending?: NodeJS.Timeout;

  /** Redraws with the latest status; status notifications come with every keystroke's request, so at most a few times a second. */
  render(): void {
    if (!this.panel || this.pending) return;
    this.pending = setTimeout(() => { this.pending = undefined; this.draw(); }, 250);
  }

  private current(): PanelState {
    return { ...this.state(), ledger: this.ledger, ledgerError: this.ledgerError, security: this.security };
  }

  /** Loads the page, once per panel. A page that reloads (it was hidden) asks for the current content ('ready'). */
  private load(): void {
    if (!this.panel) return;
    const nonce = crypto.randomBytes(16).toString('base64');
    this.panel.webview.html = renderPanel(this.current(), nonce, this.panel.webview.cspSource);
  }

  /** Swaps the open page's content: replacing the page's HTML would reload it (flicker, lost scroll, lost clicks). */
  private draw(): void {
    if (!this.panel) return;
    void this.panel.webview.postMessage({ body: renderPanelBody(this.current()) });
  }

  private async runSecurityReport(): Promise<void> {
    if (this.security?.running) return;
    this.security = { running: true };
    this.draw();
    try {
      this.security = await this.attackPrompt();
    } catch (e) {
      this.security = { error: `No report: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.draw();
  }

  async refreshLedger(): Promise<void> {
    if (!this.panel) return;
    try {
      this.ledger = await this.loadLedger();
      this.ledgerError = undefined;
    } catch (e) {
      this.ledgerError = `The ledger is not available: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.render();
  }

  dispose(): void { clearTimeout(this.pending); this.panel?.dispose(); }
}
