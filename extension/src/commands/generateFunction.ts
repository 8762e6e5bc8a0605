import * as vscode from 'vscode';
import { commands, GeneratedFunction, GenerateFunctionArguments } from '../protocol';
import { SidecarClient } from '../sidecar/sidecarClient';

/**
 * "NoirCode: Generate Function": the sidecar reads the signature and docstring at the cursor and generates the
 * body; this inserts it as one undoable edit.
 */
export async function generateFunction(sidecar: SidecarClient): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) { void vscode.window.showInformationMessage('NoirCode: open a file and put the cursor on a function signature.'); return; }
  const document = editor.document;
  const selection = editor.selection;
  const args: GenerateFunctionArguments = {
    uri: document.uri.toString(),
    ...(selection.isEmpty
      ? { position: { line: selection.active.line, character: selection.active.character } }
      : { range: { start: { line: selection.start.line, character: selection.start.character }, end: { line: selection.end.line, character: selection.end.character } } }),
  };
  const version = document.version;
  let result: GeneratedFunction | null;
  try {
    result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'NoirCode: generating the function body…' },
      () => sidecar.executeCommand(commands.generateFunction, args));
  } catch (e) {
    void vscode.window.showWarningMessage(`NoirCode: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  if (!result || !result.text.trim()) { void vscode.window.showInformationMessage('NoirCode: the model produced no body here.'); return; }
  if (document.version !== version) { void vscode.window.showInformationMessage('NoirCode: the file changed while generating; run the command again.'); return; }
  const r = result.range;
  const range = new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  await editor.edit(edit => edit.replace(range, result!.text));
}
