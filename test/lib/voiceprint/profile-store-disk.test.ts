import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProfileStore } from '../../../lib/voiceprint/profile-store';
import { TinyDisk } from '../../support/tiny-disk';

/** A speaker embedding's size (3D-Speaker's models give 192 floats, as the JSON file holds them). */
const voice = (seed: number) => Array.from({ length: 192 }, (_, i) => Math.sin(seed * 7 + i));

/** What a failed change must leave: the same file byte for byte, the same voices in memory, no temporary file. */
function assertUnchanged(store: ProfileStore, file: string, before: string, names: string[]): void {
  assert.deepEqual(store.names(), names, 'the voices in memory are those on disk');
  assert.equal(readFileSync(file, 'utf8'), before, 'the profile file is untouched');
  assert.deepEqual(new ProfileStore(file, 'm').names(), names, 'a restart finds the same voices');
  assert.deepEqual(readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
}

/**
 * The profile file on a disk that fails: a real tmpfs made read-only or
 * filled up, as an SD card does. A change that cannot be written fails with
 * PROFILES_NOT_SAVED and a short status, and changes nothing.
 */
describe('ProfileStore on a failing disk', function () {
  let disk: TinyDisk | undefined;
  let file: string;
  before(function () {
    const made = TinyDisk.create(64);
    if (typeof made === 'string') {
      console.log(`      skipped: ${made}`);
      return this.skip();
    }
    disk = made;
    file = join(disk.dir, 'realtime-voice', 'voiceprints.json');
  });
  after(() => disk?.remove());

  it('read-only disk: enrol and forget fail with EROFS in the message, the voices on disk and in memory stay', () => {
    const store = new ProfileStore(file, 'm');
    store.enrol('alice', voice(1));
    const before = readFileSync(file, 'utf8');
    disk!.readOnly();
    try {
      assert.throws(() => store.enrol('bob', voice(2)), { code: 'PROFILES_NOT_SAVED', statusText: 'disk read-only', message: /not saved to .*voiceprints\.json: the disk is read-only \(EROFS\); the enrolled voices are unchanged/ });
      assert.throws(() => store.enrol('alice', voice(3)), { code: 'PROFILES_NOT_SAVED' });
      assert.throws(() => store.remove('alice'), { code: 'PROFILES_NOT_SAVED' });
      assertUnchanged(store, file, before, ['alice']);
      assert.equal(store.best(voice(1))?.score.toFixed(6), '1.000000', 'alice keeps her one sample: the failed re-enrolment did not average in');
    } finally {
      disk!.writable();
    }
    store.enrol('bob', voice(2));
    assert.deepEqual(new ProfileStore(file, 'm').names(), ['alice', 'bob'], 'once writable, the next enrolment is saved');
  });

  it('full disk: enrolment fails with ENOSPC, nothing half-written; freeing space lets it succeed', () => {
    const store = new ProfileStore(file, 'm');
    const names = store.names();
    const before = readFileSync(file, 'utf8');
    const filler = disk!.fill();
    try {
      assert.throws(() => store.enrol('carol', voice(4)), { code: 'PROFILES_NOT_SAVED', statusText: 'disk full', message: /the disk is full \(ENOSPC\)/ });
      assertUnchanged(store, file, before, names);
    } finally {
      rmSync(filler);
    }
    store.enrol('carol', voice(4));
    assert.deepEqual(new ProfileStore(file, 'm').names(), [...names, 'carol'].sort());
  });
});

describe('ProfileStore writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rv-store-write-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a file where the folder should be (any machine, any user): PROFILES_NOT_SAVED, the voices in memory unchanged', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const store = new ProfileStore(join(home, 'realtime-voice', 'voiceprints.json'), 'm');
    writeFileSync(join(home, 'realtime-voice'), 'not a folder');
    assert.throws(() => store.enrol('alice', voice(1)), { code: 'PROFILES_NOT_SAVED', statusText: 'not saved', message: /the enrolled voices are unchanged/ });
    assert.deepEqual(store.names(), []);
  });

  it('removes the temporary file a crashed writer left, keeps one of a live writer', () => {
    const file = join(dir, 'voiceprints.json');
    new ProfileStore(file, 'm').enrol('alice', voice(1));
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(`${file}.${gone}-1.tmp`, '{"half": ');
    writeFileSync(`${file}.${process.pid}-999.tmp`, '{"in progress": ');
    assert.deepEqual(new ProfileStore(file, 'm').names(), ['alice']);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [`voiceprints.json.${process.pid}-999.tmp`]);
  });

  it('refuses a name over 100 characters with BAD_NAME', () => {
    const store = new ProfileStore(join(dir, 'names.json'), 'm');
    assert.throws(() => store.enrol('x'.repeat(101), voice(1)), { code: 'BAD_NAME', message: /at most 100 characters \(got 101\)/ });
    assert.equal(store.enrol('x'.repeat(100), voice(1)).samples, 1);
  });
});
