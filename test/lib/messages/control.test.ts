import assert from 'node:assert/strict';
import { ALL_TURNS, CONTROL_VERSION, cancels, makeControl, parseControl, type ControlType } from '../../../lib/messages/control';
import { newTurnId, TurnTracker } from '../../../lib/messages/turns';

describe('control protocol', () => {
  it('builds messages that parse back, with version, turn and time', () => {
    const before = Date.now();
    const msg = makeControl('tts-end', 't-1', { playedMs: 1200, cut: true, source: 'speaker-out' });
    assert.equal(msg.topic, 'control');
    assert.equal(msg.turnId, 't-1');
    const c = parseControl(msg);
    assert.equal(c.v, CONTROL_VERSION);
    assert.equal(c.type, 'tts-end');
    assert.equal(c.playedMs, 1200);
    assert.ok(c.ts >= before && c.ts <= Date.now());
  });

  it('refuses malformed control messages with the reason', () => {
    const ok = makeControl('interrupt', 't-1').control;
    assert.throws(() => parseControl({}), /msg\.control is missing/);
    assert.throws(() => parseControl({ control: { ...ok, v: 99 } }), /version 1/);
    assert.throws(() => parseControl({ control: { ...ok, type: 'stop-now' } }), /unknown control type "stop-now"/);
    assert.throws(() => parseControl({ control: { ...ok, turnId: '' } }), /turnId/);
    assert.throws(() => parseControl({ control: { ...ok, ts: 'now' } }), /ts must be a number/);
  });

  it('says which turns an event ends: one rule for every node', () => {
    const ends = (type: ControlType, turnId: string) => ['a', 'b', 'c'].filter(cancels({ type, turnId }));
    // A barge-in: the user's new turn b goes on, every other ends.
    assert.deepEqual(ends('speech-start', 'b'), ['a', 'c']);
    assert.deepEqual(ends('interrupt', 'b'), ['b']);
    assert.deepEqual(ends('flush', 'c'), ['c']);
    assert.deepEqual(ends('interrupt', ALL_TURNS), ['a', 'b', 'c']);
    assert.deepEqual(ends('flush', ALL_TURNS), ['a', 'b', 'c']);
    for (const type of ['speech-end', 'pause', 'resume', 'tts-start', 'tts-end', 'mute', 'unmute'] as const) {
      assert.deepEqual(ends(type, 'b'), [], `${type} ends nothing`);
      assert.deepEqual(ends(type, ALL_TURNS), [], `${type} "*" ends nothing`);
    }
  });
});

describe('control protocol: rooms', () => {
  const rooms: Record<string, string | undefined> = { k1: 'kitchen', k2: 'kitchen', l1: 'lounge', all: undefined };
  const ends = (type: ControlType, turnId: string, room?: string) => Object.keys(rooms).filter(cancels({ type, turnId, room }, (id) => rooms[id]));

  it('scopes the cancel rule to the event\'s room; turns of no room are everywhere, events of no room reach every room', () => {
    assert.deepEqual(ends('speech-start', 'k2', 'kitchen'), ['k1', 'all'], 'a barge-in in the kitchen');
    assert.deepEqual(ends('speech-start', 'k2'), ['k1', 'l1', 'all'], 'a barge-in from a flow without rooms');
    assert.deepEqual(ends('interrupt', ALL_TURNS, 'lounge'), ['l1', 'all'], "the lounge's stop button");
    assert.deepEqual(ends('interrupt', 'k1', 'lounge'), ['k1'], 'a named turn ends wherever it is');
  });

  it('takes the room from msg.control.room or, failing that, msg.room, and refuses a malformed one', () => {
    const ok = makeControl('interrupt', ALL_TURNS);
    assert.equal(parseControl({ ...ok, room: 'lounge' }).room, 'lounge');
    assert.equal(parseControl(makeControl('speech-start', 't-1', { room: 'hall' })).room, 'hall');
    assert.equal(parseControl({ ...makeControl('speech-start', 't-1', { room: 'hall' }), room: 'attic' }).room, 'hall');
    assert.equal(parseControl(ok).room, undefined);
    assert.throws(() => parseControl({ control: { ...ok.control, room: 7 } }), /room must be a non-empty string/);
    assert.throws(() => parseControl({ control: { ...ok.control, room: '' } }), /room must be a non-empty string/);
  });

  it('TurnTracker remembers the room a turn began in, bounded, and applies the rule with it', () => {
    const turns = new TurnTracker(2);
    turns.place('q', 'lounge'); // queued, not begun
    turns.begin('k', 'kitchen');
    assert.deepEqual(turns.cancelBy({ type: 'speech-start', turnId: 'new', room: 'kitchen' }, ['q']), ['k']);
    assert.ok(!turns.isStale('q'));
    turns.place('a', 'attic');
    assert.equal(turns.roomOf('q'), undefined, 'the oldest room is forgotten past the bound');
  });
});

describe('TurnTracker', () => {
  it('drops messages of a cancelled turn and refuses to restart it', () => {
    const turns = new TurnTracker();
    assert.ok(turns.begin('a'));
    assert.equal(turns.current, 'a');
    assert.equal(turns.cancel(), 'a');
    assert.equal(turns.current, undefined);
    assert.ok(turns.isStale('a'));
    assert.ok(!turns.begin('a'), 'a late message must not revive a cancelled turn');
    assert.ok(turns.begin('b'));
    assert.ok(!turns.isStale('b'));
    assert.ok(!turns.isStale(undefined));
  });

  it('ends a turn normally without marking it stale', () => {
    const turns = new TurnTracker();
    turns.begin('a');
    turns.finish('a');
    assert.equal(turns.current, undefined);
    assert.ok(!turns.isStale('a'));
  });

  it('holds several open turns at once: a cancel-all reaches a reply waiting for its next chunk while another turn began', () => {
    const turns = new TurnTracker();
    turns.begin('reply'); // its first chunk spoken, more to come
    turns.begin('announcement');
    assert.equal(turns.current, 'announcement');
    assert.deepEqual(turns.cancelBy({ type: 'flush', turnId: ALL_TURNS }).sort(), ['announcement', 'reply']);
    assert.ok(turns.isStale('reply') && turns.current === undefined);
    turns.begin('c');
    turns.begin('d');
    turns.finish('d');
    assert.equal(turns.current, 'c', 'the turn begun before the finished one is still open');
  });

  it('forgets the oldest cancelled turns beyond its memory', () => {
    const turns = new TurnTracker(3);
    for (const id of ['a', 'b', 'c', 'd']) turns.cancel(id);
    assert.ok(!turns.isStale('a'));
    assert.ok(turns.isStale('b') && turns.isStale('d'));
  });

  it('applies a control event to the turns it holds, and remembers the turn an interrupt names before it arrives', () => {
    const turns = new TurnTracker();
    turns.begin('open');
    assert.deepEqual(turns.cancelBy({ type: 'interrupt', turnId: 'later' }, ['queued']), []);
    assert.ok(turns.isStale('later'), 'audio of the named turn arriving afterwards is dropped');
    assert.ok(!turns.isStale('queued') && turns.current === 'open');
    assert.deepEqual(turns.cancelBy({ type: 'speech-start', turnId: 'new' }, ['queued', 'new', undefined]).sort(), ['open', 'queued']);
    assert.ok(!turns.isStale('new'), "the user's new turn is not cancelled by its own speech-start");
    assert.deepEqual(turns.cancelBy({ type: 'tts-end', turnId: 'new' }, ['new']), []);
    assert.ok(!turns.isStale(ALL_TURNS) && turns.cancelBy({ type: 'flush', turnId: ALL_TURNS }, ['new']).includes('new'));
    assert.ok(!turns.isStale(ALL_TURNS), '"*" is not remembered as a turn');
  });

  it('makes unique readable turn ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, newTurnId));
    assert.equal(ids.size, 1000);
    assert.match([...ids][0], /^t-[0-9a-f]{8}$/);
  });
});
