import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeBinaries, type BinaryState } from '../../lib/native-binaries';
import { ROOT } from '../support/paths';

// The packages installed in this checkout, asked about this machine and about others.
const byModule = (states: BinaryState[]) => Object.fromEntries(states.map((s) => [s.module, s]));

describe('native binaries (what npm run doctor says is missing)', () => {
  it('finds a build of every native engine for this machine', () => {
    const states = nativeBinaries();
    assert.deepEqual(
      states.map((s) => [s.module, s.ok]),
      [
        ['sherpa-onnx-node', true],
        ['node-llama-cpp', true],
        ['onnxruntime-node', true],
        ['audify', true],
      ],
      JSON.stringify(states),
    );
    assert.match(byModule(states)['sherpa-onnx-node'].detail, new RegExp(`sherpa-onnx-linux-${process.arch}`));
  });

  it('Raspberry Pi 5 (linux-arm64): names the platform packages that exist for it, and what audify needs to build', () => {
    const pi = byModule(nativeBinaries({ platform: 'linux', arch: 'arm64' }));
    // Published for linux-arm64; npm installs it only on such a machine, so here it is missing and the fix is named.
    assert.match(pi['sherpa-onnx-node'].detail, /sherpa-onnx-linux-arm64/);
    if (!pi['sherpa-onnx-node'].ok) assert.match(pi['sherpa-onnx-node'].detail, /is not installed \(npm skipped it\): run "npm install" again in /);
    assert.match(pi['node-llama-cpp'].detail, /@node-llama-cpp\/linux-arm64/);
    assert.deepEqual(pi['onnxruntime-node'], { module: 'onnxruntime-node', ok: true, detail: 'linux-arm64 build inside the package' });
    assert.equal(pi.audify.ok, false);
    assert.match(pi.audify.detail, /no binary for linux-arm64: its install downloads one from GitHub or compiles it; install cmake, libasound2-dev and libpulse-dev/);
  });

  it('32-bit ARM: says that sherpa-onnx and onnxruntime publish no build for it, and to use the 64-bit OS', () => {
    const arm = byModule(nativeBinaries({ platform: 'linux', arch: 'arm' }));
    assert.equal(arm['sherpa-onnx-node'].ok, false);
    assert.match(arm['sherpa-onnx-node'].detail, /publishes no build for linux-arm \(it has: .*linux-arm64.*\); on a Raspberry Pi use the 64-bit OS/);
    assert.equal(arm['onnxruntime-node'].ok, false);
    assert.match(arm['onnxruntime-node'].detail, /ships no build for linux-arm/);
    assert.match(arm['node-llama-cpp'].detail, /linux-armv7l/);
  });

  it('a machine without them: each engine is named as not installed, with the command and the folder', () => {
    const empty = mkdtempSync(join(tmpdir(), 'rv-native-'));
    try {
      const states = nativeBinaries(undefined, empty);
      assert.ok(states.every((s) => !s.ok && new RegExp(`^${s.module} is not installed: run "npm install" in ${ROOT}$`).test(s.detail)), JSON.stringify(states));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
