import * as vscode from 'vscode';
import { PrivacyStatus } from '../protocol';
import { formatStatus } from './statusFormat';

/** The status bar item: mode, ε and exposure at a glance; click for the privacy panel. */
export class PrivacyStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('noircode.status', vscode.StatusBarAlignment.Right, 1000);

  constructor() {
    this.item.name = 'NoirCode privacy';
    this.item.command = 'noircode.showPrivacyPanel';
    this.item.show();
  }

  update(status: PrivacyStatus, paused: boolean): void {
    const view = formatStatus(status, paused);
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip.join('\n\n'), true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor = view.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : view.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: view.tooltip[0].replace(/\*\*/g, '') };
  }

  dispose(): void { this.item.dispose(); }
}
