import assert from 'node:assert/strict';
import { validateAudioMessage } from '../../../lib/audio/validate';
import {
  audioFrame,
  flushMessage,
  isAudioFrame,
  isFlush,
  isLlmChunk,
  isMetrics,
  isTranscript,
  llmChunk,
  llmReply,
  metrics,
  transcript,
  turnFields,
} from '../../../lib/messages';

describe('message contract (lib/messages)', () => {
  it('an audio frame is its samples as s16le bytes, without a copy, and passes the frame checks', () => {
    const samples = Int16Array.from([1, -2, 32767, -32768]);
    const frame = audioFrame(samples, 22050, { turnId: 't-1', text: 'Hi.', complete: true });
    assert.equal(frame.topic, 'audio');
    assert.equal(frame.payload.buffer, samples.buffer, 'the payload is the samples’ own memory');
    assert.deepEqual(frame.audio, { sampleRate: 22050, channels: 1, format: 's16le' });
    assert.deepEqual([frame.turnId, frame.text, frame.complete], ['t-1', 'Hi.', true]);
    assert.ok(isAudioFrame(frame) && !isFlush(frame));
    assert.equal(validateAudioMessage(frame).pcm.length, 8);
    const flush = flushMessage(16000);
    assert.ok(isFlush(flush) && !isAudioFrame(flush));
    for (const notAFrame of [null, 'audio', { payload: 'x', audio: {} }, { payload: Buffer.alloc(2) }]) assert.ok(!isAudioFrame(notAFrame));
  });

  it('a transcript, an LLM chunk and a metrics message have the documented shape and are told apart', () => {
    const t = transcript('turn on the light', false, { speechStart: 1, speechEnd: 2, recognitionMs: 90 }, { turnId: 't-1', room: 'hall' });
    assert.deepEqual(t, { topic: 'transcript', payload: 'turn on the light', partial: false, turnId: 't-1', room: 'hall', timings: { speechStart: 1, speechEnd: 2, recognitionMs: 90 } });
    const last = llmChunk('', 2, true, { turnId: 't-1', conversationId: 'default' }, true);
    assert.deepEqual(last.parts, { id: 't-1', index: 2, type: 'string', ch: '', count: 3 }, 'a Join node rebuilds the reply from parts');
    assert.equal(last.fallback, true);
    assert.ok(!('fallback' in llmChunk('Hi.', 0, false, { turnId: 't-1', conversationId: 'default' })));
    const m = metrics('tts', 't-1', { rtf: 0.2 });
    assert.deepEqual(m, { topic: 'metrics', stage: 'tts', turnId: 't-1', payload: { rtf: 0.2 } });
    assert.ok(!('turnId' in metrics('voiceprint', undefined, {})));
    const kinds = [t, last, m].map((msg) => [isTranscript(msg), isLlmChunk(msg), isMetrics(msg)]);
    assert.deepEqual(kinds, [
      [true, false, false],
      [false, true, false],
      [false, false, true],
    ]);
  });

  it('carries the turn fields only, well-formed ones, and the reply keeps all of the question', () => {
    const question = { payload: 'hi', turnId: 't-1', conversationId: 'kids', speaker: { name: 'alice', score: 0.9, extra: 1 }, room: 'hall', parts: { id: 'x' }, req: { url: '/ask' } };
    assert.deepEqual(turnFields(question), { turnId: 't-1', conversationId: 'kids', speaker: { name: 'alice', score: 0.9 }, room: 'hall' });
    assert.deepEqual(turnFields({ turnId: '', conversationId: 7, speaker: { name: 'x' }, room: null }), {}, 'malformed fields are left behind');
    const reply = llmReply(question, 'Hello.', { turnId: 't-1', conversationId: 'kids', interrupted: false, truncated: false });
    assert.deepEqual(reply.req, { url: '/ask' }, 'an http-in request travels to the http-response');
    assert.deepEqual([reply.topic, reply.payload], ['llm-reply', 'Hello.']);
  });
});
