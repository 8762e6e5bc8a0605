import * as fs from 'fs';
import * as vscode from 'vscode';
import {
  CloseAction, CloseHandlerResult, ErrorAction, ErrorHandler, ErrorHandlerResult, LanguageClient, LanguageClientOptions,
  ServerOptions, State,
} from 'vscode-languageclient/node';
import { DidChangeConfigurationParams, NoirCodeSettings, PrivacyStatus, privacyStatusNotification, SidecarCommand, SidecarCommands, settingsSection } from '../protocol';
import { languageEnabled } from '../settings/languageEnabled';
import { startingStatus } from '../status/privacyStatus';
import { CrashPolicy } from './crashPolicy';
import { resolveSidecar } from './sidecarCommand';
import { sidecarEnvironment } from './sidecarEnvironment';
import { redactingTraceChannel } from './traceRedaction';

export interface SidecarHost {
  /** The `noircode` section to forward (never the API key). */
  settings(): NoirCodeSettings;
  /** The endpoint API key, when the user allowed it for the configured endpoint; it goes in the child's environment. */
  apiKey(): Promise<string | undefined>;
  sidecarPath(): string;
  enable(): Record<string, boolean>;
  paused(): boolean;
}

/**
 * The sidecar language server (`noir lsp`) over stdio: starts it, restarts it after a crash (giving up after
 * repeated crashes), forwards its logs to the output channel and its noir/privacyStatus to listeners.
 * Inline completions come from vscode-languageclient's LSP 3.18 inlineCompletion feature.
 */
export class SidecarClient implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('NoirCode', { log: true });
  private client?: LanguageClient;
  private readonly crashes = new CrashPolicy();
  private readonly statusEmitter = new vscode.EventEmitter<PrivacyStatus>();
  readonly onStatus = this.statusEmitter.event;
  private loadingProgress?: () => void;
  private lastStatus: PrivacyStatus = startingStatus;
  private gaveUp = false;

  constructor(private readonly extensionPath: string, private readonly host: SidecarHost) {}

  get status(): PrivacyStatus { return this.lastStatus; }
  get running(): boolean { return this.client?.state === State.Running; }

  async start(): Promise<void> {
    const resolved = resolveSidecar(this.host.sidecarPath(), process.env, this.extensionPath, fs.existsSync);
    if ('error' in resolved) {
      this.output.appendLine(resolved.error);
      this.publish({ ...startingStatus, mode: 'error', detail: resolved.error });
      void vscode.window.showErrorMessage(resolved.error, 'Open Settings').then(choice => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'noircode.sidecarPath');
      });
      return;
    }
    const settings = this.host.settings();
    const apiKey = await this.host.apiKey();
    this.output.appendLine(`starting the sidecar: ${resolved.command} ${resolved.args.join(' ')} (from ${resolved.from})`);
    this.output.appendLine(`settings: ${JSON.stringify(settings)}; API key: ${apiKey ? 'from secret storage, for this endpoint' : 'none'}`);
    // stdio, without the --stdio argument that TransportKind.stdio would add (noir lsp always talks on stdio).
    const serverOptions: ServerOptions = { command: resolved.command, args: resolved.args, options: { env: sidecarEnvironment(process.env, apiKey) } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      initializationOptions: settings,
      outputChannel: this.output,
      // Message tracing names the messages only: their params are your code (traceRedaction.ts).
      traceOutputChannel: redactingTraceChannel(this.output),
      errorHandler: this.errorHandler(),
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) => {
          if (this.host.paused() || !languageEnabled(this.host.enable(), document.languageId)) return null;
          return next(document, position, context, token);
        },
      },
    };
    const client = new LanguageClient('noircode', 'NoirCode sidecar', serverOptions, clientOptions);
    client.onNotification(privacyStatusNotification, (s: PrivacyStatus) => this.publish(s));
    this.client = client;
    this.gaveUp = false;
    try {
      await client.start();
    } catch (e) {
      this.output.appendLine(`the sidecar did not start: ${String(e)}`);
      this.publish({ ...startingStatus, mode: 'error', detail: 'the sidecar did not start (see the NoirCode output)' });
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.loadingProgress?.();
    if (client) {
      try { await client.stop(10_000); } catch (e) { this.output.appendLine(`stopping the sidecar: ${String(e)}`); }
    }
  }

  /** "NoirCode: Restart Sidecar": a fresh start, also after the crash policy gave up. */
  async restart(): Promise<void> {
    this.crashes.reset();
    await this.stop();
    this.publish(startingStatus);
    await this.start();
  }

  /** The whole section: it replaces the sidecar's settings, so a cleared setting is back at its default. */
  async sendSettings(settings: NoirCodeSettings): Promise<void> {
    if (!this.running) return;
    this.output.appendLine(`settings changed: ${JSON.stringify(settings)}`);
    const params: DidChangeConfigurationParams = { settings: { [settingsSection]: settings } };
    await this.client!.sendNotification('workspace/didChangeConfiguration', params);
  }

  async executeCommand<C extends SidecarCommand>(command: C, args: SidecarCommands[C]['arguments']): Promise<SidecarCommands[C]['result']> {
    if (!this.client || !this.running) throw new Error(this.gaveUp
      ? 'the sidecar stopped after repeated crashes; run "NoirCode: Restart Sidecar"'
      : 'the sidecar is not running yet');
    return await this.client.sendRequest('workspace/executeCommand', { command, arguments: [args] }) as SidecarCommands[C]['result'];
  }

  private publish(s: PrivacyStatus): void {
    this.lastStatus = s;
    this.showLoadingProgress(s);
    this.statusEmitter.fire(s);
  }

  /** Loading the model (and splitting it the first time) can take a while: say so in a notification. */
  private showLoadingProgress(s: PrivacyStatus): void {
    if (s.mode !== 'loading') { this.loadingProgress?.(); this.loadingProgress = undefined; return; }
    if (this.loadingProgress) return;
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'NoirCode: loading the model' },
      () => new Promise<void>(resolve => { this.loadingProgress = resolve; }));
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue, handled: true }),
      closed: (): CloseHandlerResult => {
        if (this.crashes.onCrash(Date.now())) {
          const n = this.crashes.recentCrashes;
          this.output.appendLine(`the sidecar stopped unexpectedly; restarting (${n} of ${this.crashes.maxCrashes})`);
          void vscode.window.showWarningMessage(`NoirCode: the sidecar stopped unexpectedly and is being restarted (${n} of ${this.crashes.maxCrashes}).`, 'Show Logs')
            .then(c => { if (c) this.output.show(); });
          this.publish({ ...startingStatus, detail: 'restarting the sidecar' });
          return { action: CloseAction.Restart, handled: true };
        }
        this.gaveUp = true;
        this.output.appendLine('the sidecar keeps crashing; not restarting it again');
        this.publish({ ...startingStatus, mode: 'error', detail: 'the sidecar keeps crashing; completions are off' });
        void vscode.window.showErrorMessage(
          `NoirCode: the sidecar crashed ${this.crashes.recentCrashes} times in a few minutes, so completions are off. The logs may say why.`,
          'Show Logs', 'Restart Sidecar').then(c => {
          if (c === 'Show Logs') this.output.show();
          if (c === 'Restart Sidecar') void this.restart();
        });
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  dispose(): void {
    void this.stop();
    this.statusEmitter.dispose();
    this.output.dispose();
  }
}
