/**
 * Echo cancellation on the shared aec-room recording and on rooms simulated
 * from the shared speech clips (test/support/echo-room.ts): ERLE while only
 * the assistant talks, user-speech loss in double talk, barge-ins as the real
 * Silero VAD sees them (false ones over 10 minutes of assistant speech with
 * nobody talking, true ones when a user talks over it), and the cost per
 * 10 ms frame. Baseline for barge-ins: the raw microphone, no canceller (what
 * a flow without it hears); for the cost: the canceller while nothing plays.
 */
import { aecRoom, cancel, erle, microphone, RATE, ROOMS, speech, speechStarts, userLoss, voices } from '../test/support/echo-room';
import type { BenchRow } from './table';

const BENCH = 'aec';
/** 10 minutes of assistant speech in all, split over the simulated rooms. */
const ASSISTANT_SECONDS = 600 / Object.keys(ROOMS).length;
/** A user talks over the assistant every this many seconds, from 10 s on (the canceller has learnt the room). */
const BARGE_IN_EVERY = 6;
const BARGE_IN_FROM = 10;
/** A barge-in is heard when the VAD hears speech start from just before the user's first loud sample to their last. */
const DETECT_BEFORE = 0.3 * RATE;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ERLE of each second from `from` on in which the assistant is talking (a pause has no echo to remove). */
function erlePerSecond(mic: Int16Array, out: Int16Array, far: Int16Array, from: number): number[] {
  const values: number[] = [];
  for (let s = from; (s + 1) * RATE <= mic.length; s++) {
    const a = s * RATE;
    const talking = far.subarray(a, a + RATE).filter((v) => Math.abs(v) > 1000).length > 0.3 * RATE;
    if (talking) values.push(erle(mic, out, a, a + RATE));
  }
  return values;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const room = await aecRoom();
  const { out } = cancel(room.near, room.far);
  const assistantOnly = { near: room.near.subarray(0, room.userFrom), out: out.subarray(0, room.userFrom), far: room.far.subarray(0, room.userFrom) };
  rows.push({ bench: BENCH, metric: 'aec-room: ERLE 2-6 s, worst second', value: Math.min(...erlePerSecond(assistantOnly.near, assistantOnly.out, assistantOnly.far, 2)), unit: 'dB', goal: '>= 25' });
  const linear = cancel(room.near, room.far, { cutEchoOnly: false }).out.subarray(0, room.userFrom);
  rows.push({ bench: BENCH, metric: 'aec-room: the same without the echo-only cut', value: Math.min(...erlePerSecond(assistantOnly.near, linear, assistantOnly.far, 2)), unit: 'dB', goal: '>= 25' });
  const dt = userLoss(out, room.user, room.userFrom, room.near.length);
  rows.push({ bench: BENCH, metric: 'aec-room: user speech loss in double talk', value: dt.lossDb, unit: 'dB', goal: '<= 3' });
  const micSnr = userLoss(room.near, room.user, room.userFrom, room.near.length).snrDb;
  rows.push({ bench: BENCH, metric: `aec-room: user-to-residual ratio in double talk (microphone: ${micSnr.toFixed(1)} dB)`, value: dt.snrDb, unit: 'dB' });

  const v = await voices();
  let falseStarts = 0;
  let rawFalseStarts = 0;
  let bargeIns = 0;
  let detected = 0;
  let rawDetected = 0;
  const losses: number[] = [];
  const detectDelays: number[] = [];
  for (const [name, r] of Object.entries(ROOMS)) {
    const far = speech(v.assistant, ASSISTANT_SECONDS, r.seed);
    const mic = microphone(r, far);
    const cleaned = cancel(mic, far).out;
    rows.push({ bench: BENCH, metric: `${name}: ERLE after 2 s, median of the seconds`, value: median(erlePerSecond(mic, cleaned, far, 2)), unit: 'dB', goal: '>= 25' });
    const uncut = cancel(mic, far, { cutEchoOnly: false }).out;
    rows.push({ bench: BENCH, metric: `${name}: the same without the echo-only cut`, value: median(erlePerSecond(mic, uncut, far, 2)), unit: 'dB' });
    falseStarts += speechStarts(cleaned).length;
    rawFalseStarts += speechStarts(mic).length;

    // The same assistant speech, a user talking over it every few seconds.
    const user = new Int16Array(far.length);
    const turns: Array<{ onset: number; end: number }> = [];
    for (let at = BARGE_IN_FROM * RATE, i = 0; at + 4 * RATE < far.length; at += BARGE_IN_EVERY * RATE, i++) {
      const said = v.user[i % v.user.length].subarray(0, 3 * RATE);
      user.set(said, at);
      turns.push({ onset: at + said.findIndex((s) => Math.abs(s) > 500), end: at + said.length - [...said].reverse().findIndex((s) => Math.abs(s) > 500) });
    }
    const talkedOver = microphone(r, far, user);
    const heard = cancel(talkedOver, far).out;
    // Each turn's delay from the user's onset to the VAD's speech-start, for the turns it heard.
    const delays = (starts: number[]) => turns.flatMap(({ onset, end }) => starts.filter((s) => s >= onset - DETECT_BEFORE && s <= end).slice(0, 1).map((s) => (s - onset) / RATE));
    bargeIns += turns.length;
    const cleanDelays = delays(speechStarts(heard));
    detected += cleanDelays.length;
    detectDelays.push(...cleanDelays);
    rawDetected += delays(speechStarts(talkedOver)).length;
    losses.push(userLoss(heard, user, BARGE_IN_FROM * RATE, far.length).lossDb);
  }
  const minutes = (ASSISTANT_SECONDS * Object.keys(ROOMS).length) / 60;
  rows.push({ bench: BENCH, metric: `false barge-ins in ${minutes} min of assistant speech, no user (4 rooms)`, value: falseStarts, unit: 'count', baseline: rawFalseStarts, goal: '0' });
  rows.push({ bench: BENCH, metric: `true barge-ins heard (${bargeIns} in 4 rooms)`, value: (100 * detected) / bargeIns, unit: '%', baseline: (100 * rawDetected) / bargeIns, goal: '>= 95' });
  rows.push({ bench: BENCH, metric: 'barge-in: user onset → VAD speech-start, median', value: 1000 * median(detectDelays), unit: 'ms' });
  rows.push({ bench: BENCH, metric: 'user speech loss in double talk, worst room', value: Math.max(...losses), unit: 'dB', goal: '<= 3' });

  // Cost: 30 s of the living room, best of three (the machine is shared), against the canceller with nothing playing.
  const r = ROOMS['living room'];
  const far = speech(v.assistant, 30, r.seed);
  const mic = microphone(r, far);
  const silent = new Int16Array(far.length);
  const cost = (reference: Int16Array) => Math.min(...[0, 1, 2].map(() => cancel(mic, reference).msPerFrame10));
  rows.push({ bench: BENCH, metric: 'CPU per 10 ms frame while the assistant talks (vs nothing playing)', value: cost(far), unit: 'ms', baseline: cost(silent) });
  return rows;
}
