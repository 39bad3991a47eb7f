// `npm start`: build, then run Node-RED on 127.0.0.1:1880 with its own user
// directory (.node-red/) and this checkout loaded as the package, so the
// palette shows the voice nodes without installing anything globally.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const userDir = process.env.NODE_RED_USER_DIR ?? join(root, '.node-red');
const port = Number(process.env.PORT ?? 1880);
const defaultFlow = join(root, 'flows', 'voice-assistant.json');

execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });

// Models are not in the package: offer the default bundle once, or say what to do offline.
const require = createRequire(import.meta.url);
const { BUNDLES, CATALOG } = require(join(root, 'dist', 'lib', 'models', 'catalog.js'));
const { isInstalled, modelsDir } = require(join(root, 'dist', 'lib', 'models', 'models-dir.js'));
const missing = BUNDLES.default.filter((name) => !isInstalled(CATALOG.find((e) => e.name === name)));
if (missing.length) {
  console.log(`\nModels not installed yet (${missing.join(', ')}) in ${modelsDir()}.`);
  let pull = false;
  if (process.stdin.isTTY && !process.env.CI) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    pull = !/^n/i.test(await rl.question('Download the default bundle now? [Y/n] '));
    rl.close();
  }
  if (pull) spawnSync(process.execPath, [join(root, 'dist', 'bin', 'realtime-voice.js'), 'models', 'pull', 'default'], { stdio: 'inherit' });
  else {
    console.log('Later: npx realtime-voice models pull default');
    console.log('Offline, the same command lists every file to download and where to put it, or takes them from a folder: ... pull default --from <folder> (docs/models.md).');
    console.log('Node-RED starts anyway; nodes without a model show a red status ("no model: see debug"), and the debug sidebar says what to run.\n');
  }
}

mkdirSync(userDir, { recursive: true });
const settingsFile = join(userDir, 'settings.js');
if (!existsSync(settingsFile)) {
  writeFileSync(
    settingsFile,
    `// Written by npm start; edit freely, it is not overwritten.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: 'flows.json',
  // Load this checkout as a Node-RED package (it has a "node-red" section in package.json).
  nodesDir: [${JSON.stringify(root)}],
  editorTheme: { tours: false },
  // Everything here runs offline: no version check, and no consent dialog on first open (changeable in User Settings).
  telemetry: { enabled: false },
  logging: { console: { level: 'info' } },
};
`,
  );
}
const flowFile = join(userDir, 'flows.json');
if (!existsSync(flowFile) && existsSync(defaultFlow)) copyFileSync(defaultFlow, flowFile);

// glibc gives each thread that allocates (llama.cpp's, libuv's) a malloc arena of its own, and each
// large free raises its thresholds (up to 32 MB): buffers that size then come from the heap, and up to
// twice that of freed memory is kept, not returned. Node-RED's memory then steps up at redeploys and
// stays there. Two arenas and a fixed trim threshold (glibc's default of 128 KiB, which also fixes the
// other) keep it flat (bench/soak; `npm run bench` sets the same). Only the environment at start can
// say so; the user's own settings win.
const MALLOC_SETTINGS = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' };
const red = spawn(process.execPath, [join(root, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port)], {
  stdio: 'inherit',
  env: { ...MALLOC_SETTINGS, ...process.env },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => red.kill(signal));
red.on('exit', (code) => process.exit(code ?? 0));
