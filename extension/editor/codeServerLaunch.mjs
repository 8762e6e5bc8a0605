// How code-server is launched (pure, unit-tested in src/test/codeServerLaunch.test.ts). `npm start` is for use:
// the editor behind a random password (any user of this machine can reach a loopback port, and code-server
// is a shell as you) with workspace trust on, so a folder's settings cannot run what it likes. The end-to-end
// tests drive a throwaway profile for a minute and keep the quiet setup (no password, trust off).
import { randomBytes } from 'node:crypto';

/**
 * @param {{ entry: string, port: number, profileArgs: string[], workspace: string, secure: boolean }} o
 * @returns {{ args: string[], env: Record<string, string>, settings: Record<string, unknown>, password?: string }}
 */
export function codeServerLaunch({ entry, port, profileArgs, workspace, secure }) {
  const common = ['--bind-addr', `127.0.0.1:${port}`, ...profileArgs, '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override'];
  if (!secure) {
    return {
      args: [entry, '--auth', 'none', ...common, '--disable-workspace-trust', workspace], env: {},
      settings: { 'security.workspace.trust.enabled': false },
    };
  }
  const password = randomBytes(18).toString('base64url');
  // code-server reads the password from $PASSWORD: never on the command line, where `ps` shows it to everyone.
  return { args: [entry, '--auth', 'password', ...common, workspace], env: { PASSWORD: password }, settings: { 'security.workspace.trust.enabled': true }, password };
}
