import * as path from 'path';

export interface SidecarCommand {
  command: string;
  args: string[];
  /** Where the path came from, for the log. */
  from: string;
}

/**
 * Which program runs the sidecar: the `noircode.sidecarPath` setting, then the NOIRCODE_SIDECAR environment
 * variable (npm start sets it), then the repository's build (`artifacts/noir/noir.dll`) beside the extension
 * folder. A `.dll` runs with `dotnet`; anything else (the `noir` executable, `scripts/noir`) runs itself.
 */
export function resolveSidecar(configured: string, env: NodeJS.ProcessEnv, extensionPath: string,
  exists: (p: string) => boolean): SidecarCommand | { error: string } {
  const candidates: [string, string][] = [];
  if (configured.trim()) candidates.push([configured.trim(), 'the noircode.sidecarPath setting']);
  else if (env.NOIRCODE_SIDECAR?.trim()) candidates.push([env.NOIRCODE_SIDECAR.trim(), 'NOIRCODE_SIDECAR']);
  else candidates.push([path.resolve(extensionPath, '..', 'artifacts', 'noir', 'noir.dll'), 'the repository build']);
  const [file, from] = candidates[0];
  if (!exists(file)) {
    return { error: `The NoirCode sidecar was not found at ${file} (${from}). Build it with \`scripts/noir --help\` in the NoirCode repository, or set noircode.sidecarPath.` };
  }
  return file.endsWith('.dll')
    ? { command: 'dotnet', args: [file, 'lsp'], from }
    : { command: file, args: ['lsp'], from };
}
