import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import helper from 'node-red-node-test-helper';
import micIn from '../../nodes/mic-in/mic-in';
import { fuzzParams, guardProcess } from '../support/fuzz-guard';
import { controlArb, controlProblem, junkArb, validControl, type Msg } from '../support/fuzz-messages';
import { fuzzFlow, Traffic } from '../support/fuzz-runtime';
import { TESTDATA } from '../support/paths';
import { sleep, until } from '../support/wait';

helper.init(require.resolve('node-red'));

const CLIP = join(TESTDATA, 'arctic_aew_a0001.wav');
const COMMANDS = ['start', 'stop', 'mute', 'unmute'];

/** The command a message gives, as mic-in's help documents it (msg.command, else msg.payload; any case, spaces around). */
function command(msg: Msg): string | undefined {
  const word = typeof msg.command === 'string' ? msg.command : msg.payload;
  const w = typeof word === 'string' ? word.trim().toLowerCase() : undefined;
  return w !== undefined && COMMANDS.includes(w) ? w : undefined;
}

function refused(msg: Msg): string | undefined {
  if (msg.control != null) return controlProblem(msg.control);
  return command(msg) === undefined ? 'not a command' : undefined;
}

const commandArb: fc.Arbitrary<Msg> = fc.oneof(
  fc.record({ payload: fc.constantFrom(...COMMANDS, ' Start ', 'MUTE', 'play', '', 'stop\n') }),
  fc.record({ command: fc.constantFrom(...COMMANDS, 'pause'), payload: fc.anything({ maxDepth: 1 }) }),
);
const stepArb: fc.Arbitrary<Msg> = fc.oneof(
  { weight: 4, arbitrary: commandArb },
  { weight: 3, arbitrary: controlArb(['t-a', 't-b']) },
  { weight: 1, arbitrary: junkArb(['t-a']) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 60 }).map((ms) => ({ waitMs: ms })) },
);

describe('fuzz: mic-in (WAV source, real Node-RED runtime)', function () {
  this.timeout(120_000);
  const guard = guardProcess();
  afterEach(() => helper.unload());

  it('every message settles as the contract says, no audio leaves while muted, and after any sequence start plays the file to its end', async () => {
    await helper.load(micIn, fuzzFlow({ id: 'mic', type: 'mic-in', source: 'wav', wavPath: CLIP, pace: 'fast', autoStart: false, frameMs: 20 }, 1));
    const traffic = new Traffic('mic');
    /** When the mute state changed, on the traffic clock. */
    const switches: Array<{ at: number; muted: boolean }> = [];
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 20 }), async (steps) => {
        const first = traffic.received;
        const firstSent = traffic.sent.length;
        for (const msg of steps) {
          if (typeof msg.waitMs === 'number') {
            await sleep(msg.waitMs);
            continue;
          }
          const n = traffic.receive(msg);
          if (refused(msg) !== undefined) continue;
          const word = validControl(msg)?.type ?? command(msg);
          if (word === 'mute' || word === 'unmute') switches.push({ at: traffic.processedAt[n], muted: word === 'mute' });
        }
        // Never stalls: unmuted, stopped and started again, the file plays to its end (msg.flush).
        traffic.receive({ payload: 'unmute' });
        switches.push({ at: traffic.processedAt[traffic.received - 1], muted: false });
        traffic.receive({ payload: 'stop' });
        const startAt = traffic.processedAt[traffic.receive({ payload: 'start' })];
        const ns = traffic.since(first);
        await traffic.allSettled(ns, 10_000);
        traffic.assertVerdicts(ns, refused);
        await until(() => traffic.sent.some((s) => s.at > startAt && s.msg.flush === true), 10_000, 'the file to play to its end');
        assert.ok(traffic.sent.some((s) => s.at > startAt && Buffer.isBuffer(s.msg.payload)), 'the file played');
        for (const s of traffic.sent.slice(firstSent)) {
          if (!Buffer.isBuffer(s.msg.payload)) continue;
          const state = switches.filter((w) => w.at < s.at).at(-1);
          assert.ok(!state?.muted, `a frame left while muted (clock ${s.at})`);
        }
        guard.check();
      }),
      fuzzParams(25),
    );
  });
});
