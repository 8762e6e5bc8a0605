// Bundles the extension (one file, vscode external) or, with --tests, each unit test with the pure modules it tests.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
if (process.argv.includes('--tests')) {
  const tests = readdirSync('src/test').filter(f => f.endsWith('.test.ts')).map(f => `src/test/${f}`);
  // A test whose source is gone must not run from an old bundle.
  rmSync('out/test', { recursive: true, force: true });
  await build({ entryPoints: tests, bundle: true, platform: 'node', format: 'cjs', target: 'node20', outdir: 'out/test', external: ['vscode'], logLevel: 'warning' });
} else {
  await build({
    entryPoints: ['src/extension.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: 'out/extension.js',
    external: ['vscode'], sourcemap: !production, minify: production, logLevel: 'warning',
  });
}
