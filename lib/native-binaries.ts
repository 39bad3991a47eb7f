import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Where each native engine's binary for a platform comes from, so `npm run doctor` can say plainly
 * what is missing (a Raspberry Pi 5 on 64-bit Raspberry Pi OS is linux-arm64). As published on the
 * npm registry for the versions package.json names:
 * - sherpa-onnx-node: one package per platform (sherpa-onnx-linux-arm64, …), none for 32-bit ARM;
 * - node-llama-cpp: one package per platform (@node-llama-cpp/linux-arm64, …linux-armv7l, …);
 * - onnxruntime-node: the binaries are inside the package (bin/napi-v6/<os>/<arch>), linux x64 and arm64;
 * - audify: no binary on the registry; its install downloads one from its GitHub releases or compiles it.
 */
export interface Platform {
  platform: NodeJS.Platform;
  arch: string;
}

export interface BinaryState {
  module: string;
  ok: boolean;
  /** What was found or what is missing, and what to do about it. */
  detail: string;
}

type Manifest = { optionalDependencies?: Record<string, string> };

const here: Platform = { platform: process.platform, arch: process.arch };
const label = ({ platform, arch }: Platform) => `${platform}-${arch}`;

/**
 * A package's folder as Node's lookup finds it from `from` (each node_modules up the tree), or
 * undefined when it is not installed. Not require.resolve: node-llama-cpp's exports hide its package.json.
 */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Where `npm install` puts this package's dependencies: the Node-RED user directory (~/.node-red) for a palette install, else the checkout. */
function installDir(): string {
  let root = __dirname;
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return basename(dirname(root)) === 'node_modules' ? dirname(dirname(root)) : root;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** A binary that comes as a platform package the module lists as optional (npm installs the one matching the machine). */
function platformPackage(module: string, dir: string, pattern: RegExp, p: Platform): BinaryState {
  const published = Object.keys(manifest(dir).optionalDependencies ?? {});
  const name = published.find((n) => pattern.test(n));
  if (!name) return { module, ok: false, detail: `${module} publishes no build for ${label(p)} (it has: ${published.map((n) => n.replace(/^.*?\/|^[^-]+-[^-]+-/, '')).join(', ')}); on a Raspberry Pi use the 64-bit OS (linux-arm64)` };
  if (!packageDir(name, dir)) return { module, ok: false, detail: `${name}, its build for ${label(p)}, is not installed (npm skipped it): run "npm install" again in ${installDir()}` };
  return { module, ok: true, detail: `${label(p)} build from ${name}` };
}

const OS = { darwin: 'darwin', linux: 'linux', win32: 'win' } as Record<string, string>;
const LLAMA_OS = { darwin: 'mac', linux: 'linux', win32: 'win' } as Record<string, string>;
const LLAMA_ARCH = { arm: 'armv7l' } as Record<string, string>;

const CHECKS: Record<string, (dir: string, p: Platform) => BinaryState> = {
  'sherpa-onnx-node': (dir, p) => platformPackage('sherpa-onnx-node', dir, new RegExp(`^sherpa-onnx-${OS[p.platform]}-${p.arch}$`), p),
  'node-llama-cpp': (dir, p) => platformPackage('node-llama-cpp', dir, new RegExp(`^@node-llama-cpp/${LLAMA_OS[p.platform]}-${LLAMA_ARCH[p.arch] ?? p.arch}(-metal)?$`), p),
  'onnxruntime-node': (dir, p) => {
    const binding = join(dir, 'bin', 'napi-v6', p.platform, p.arch, 'onnxruntime_binding.node');
    return existsSync(binding)
      ? { module: 'onnxruntime-node', ok: true, detail: `${label(p)} build inside the package` }
      : { module: 'onnxruntime-node', ok: false, detail: `onnxruntime-node ships no build for ${label(p)} (linux x64 and arm64, macOS, Windows only); on a Raspberry Pi use the 64-bit OS` };
  },
  // Its binary is made for this machine at install, so it says nothing about another platform.
  audify: (dir, p) =>
    existsSync(join(dir, 'build', 'Release', 'audify.node')) && label(p) === label(here)
      ? { module: 'audify', ok: true, detail: 'built for this machine at install' }
      : { module: 'audify', ok: false, detail: `audify has no binary for ${label(p)}: its install downloads one from GitHub or compiles it; install cmake, libasound2-dev and libpulse-dev, then run "npm install" again in ${installDir()}` },
};

/** The native engines this package needs, each with whether its binary for `p` is installed (looked up from `from`). */
export function nativeBinaries(p: Platform = here, from: string = __dirname): BinaryState[] {
  return Object.entries(CHECKS).map(([module, check]) => {
    const dir = packageDir(module, from);
    return dir ? check(dir, p) : { module, ok: false, detail: `${module} is not installed: run "npm install" in ${installDir()}` };
  });
}
