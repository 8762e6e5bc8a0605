// npm start (after scripts/start.sh built everything): code-server on 127.0.0.1 with the NoirCode extension, on a
// copy of the sample workspace, the sidecar on its embedded default (the bundled model, a local endpoint on
// loopback). Prints the URL and runs until Ctrl+C. Profile and workspace live under artifacts/editor/.
import path from 'node:path';
import { freePort, prepareProfile, prepareWorkspace, repo, startCodeServer } from './codeServer.mjs';

const root = path.join(repo, 'artifacts', 'editor');
const profile = path.join(root, 'profile');
const workspace = path.join(root, 'workspace');
const port = Number(process.env.NOIR_EDITOR_PORT) || await freePort();

prepareWorkspace(path.join(repo, 'extension', 'sample-workspace'), workspace);
// The profile keeps your settings and state between runs; the extension is reinstalled each time.
prepareProfile(profile, {}, { fresh: false, secure: true });
const server = await startCodeServer({ profile, workspace, port, secure: true });
console.log(`
NoirCode is running in VS Code (code-server) at:

    ${server.url}

    password: ${server.password}   (new on every start: other users of this machine can reach the port too)

Open it in a browser on this machine (bound to 127.0.0.1 only); trust the sample workspace when VS Code asks. Open example.py and type; put the cursor on a
def line and run "NoirCode: Generate Function" (Ctrl+Alt+G); click the shield in the status bar for the privacy
panel. The sidecar runs the bundled model, with a local endpoint on loopback for the middle blocks.
Workspace: ${workspace}
Press Ctrl+C to stop.`);
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const code = await server.exited;
console.error(`code-server exited (${code})`);
process.exit(code ?? 1);
