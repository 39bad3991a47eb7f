import assert from 'node:assert/strict';
import { clauseToIpa, espeak } from '../../../lib/tts/espeak';

describe('espeak-ng (WebAssembly)', () => {
  it('frees what it hands back for each clause: a piper worker that runs for days does not grow', async () => {
    await clauseToIpa('Warm up.', 'en-us');
    const { module } = await espeak();
    // Where a fresh 64 kB block lands: above every string still held, so leaked strings push it up.
    const top = () => {
      const ptr = module._malloc(65536);
      module._free(ptr);
      return ptr;
    };
    const before = top();
    for (let i = 0; i < 200; i++) await clauseToIpa(`this is sentence number ${i} of a long reply about the weather`, 'en-us');
    assert.equal(Object.keys(module.getCache(module.VoidPtr)).length, 0, 'the glue keeps no wrapper of a returned string');
    assert.ok(top() - before < 4096, `espeak-ng's memory grew by ${top() - before} bytes over 200 clauses`);
  });
});
