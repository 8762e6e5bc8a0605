// The sidecar's environment. The API key travels here (NOIR_API_KEY, which `noir lsp` reads) and never in
// initializationOptions, which vscode-languageclient's tracing would write to the output channel. Pure.

export const apiKeyVariable = 'NOIR_API_KEY';

export function sidecarEnvironment(base: NodeJS.ProcessEnv, apiKey: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  // A key inherited from the shell that started VS Code is bound to no endpoint: only the key the user entered
  // for this endpoint (secret storage) may reach the sidecar.
  delete env[apiKeyVariable];
  if (apiKey !== undefined && apiKey !== '') env[apiKeyVariable] = apiKey;
  // No crash dump of the sidecar's memory (it holds your code, the key and the privacy keys).
  env.DOTNET_DbgEnableMiniDump = '0';
  return env;
}
