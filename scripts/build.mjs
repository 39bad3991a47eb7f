// Build: compile TypeScript to dist/ (CommonJS, Node-RED 4 cannot load ESM nodes),
// copy each node's editor files beside its .js where Node-RED looks for them,
// and produce examples/ (the only folder Node-RED offers under Import > Examples)
// from flows/, the source of the shipped flows.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const EDITOR_FILES = /\.(html|json|svg|png|md)$/;

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

// tsc writes plain files; the package's commands must be executable for `npx realtime-voice`
// in a checkout (npm sets the bit only when it installs a package, not after a rebuild).
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const bin of Object.values(pkg.bin ?? {})) chmodSync(join(root, bin), 0o755);

function copyEditorFiles(dir) {
  for (const name of readdirSync(dir)) {
    const from = join(dir, name);
    if (statSync(from).isDirectory()) copyEditorFiles(from);
    else if (EDITOR_FILES.test(name)) {
      const to = join(dist, relative(root, from));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(from, to);
    }
  }
}
copyEditorFiles(join(root, 'nodes'));
// The browser satellite's page (plain HTML and JS, no build step), served by the sound-card node.
cpSync(join(root, 'lib', 'browser-page'), join(dist, 'lib', 'browser-page'), { recursive: true });

const examples = join(root, 'examples');
rmSync(examples, { recursive: true, force: true });
if (existsSync(join(root, 'flows'))) cpSync(join(root, 'flows'), examples, { recursive: true });

console.log('built dist/ and examples/');
