/**
 * The Wyoming server a flow is: Home Assistant connects over TCP and asks for
 * speech to text (transcribe + audio), text to speech (synthesize, or the
 * streaming synthesize-start/-chunk/-stop) or an answer (a transcript for the
 * conversation agent). Each request becomes messages for the flow, sent by
 * the wyoming-in node of its service, under a turn id of its own; what the
 * flow makes for that turn comes back through wyoming-out (answer()) and
 * goes to that client only. asr and llama-llm handle one stream at a time, so
 * their requests take turns (Gate); speech synthesis runs as piper-tts queues it.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { flushMessage, audioFrame, isControlMessage, isMetrics, isTranscript, makeControl, newTurnId } from '../messages';
import { SentenceChunker } from '../text/sentence-chunker';
import { AudioAnswer, HandledAnswer, TranscriptAnswer, type Answer } from './answers';
import { AudioStream, wireFormat } from './audio-stream';
import { Connection } from './connection';
import { WyomingError } from './errors';
import type { WyomingEvent } from './framing';
import { Gate } from './gate';
import { infoData, type Service } from './info';
import { announce, type Announcement } from './zeroconf';

export interface ServerOptions {
  port: number;
  host: string;
  services: Service[];
  agentName: string;
  /** msg.room of every message it sends into the flow: a Wyoming turn is cut only by its own room's barge-ins and stops. */
  room: string;
  languages: string[];
  /** Announce `_wyoming._tcp` on the local network. */
  zeroconf: boolean;
  /** After its input is complete, how long a request waits for the flow's answer; also how long a client may go quiet before its input is complete. */
  answerTimeoutMs: number;
  /** After audio-stop with no utterance open, how long to wait for one to start before answering. */
  transcriptGraceMs: number;
  maxClients: number;
  /** An event begun must arrive whole within this. */
  incompleteMs: number;
  /** Audio one transcription may hold (also while it waits for its turn). */
  maxAudioSeconds: number;
  /** Text one synthesis may hold (piper-tts's own limit). */
  maxTextChars: number;
}

export const SERVER_DEFAULTS: Omit<ServerOptions, 'port' | 'host' | 'services'> = {
  agentName: 'Node-RED',
  room: 'home-assistant',
  languages: ['en'],
  zeroconf: false,
  answerTimeoutMs: 60_000,
  transcriptGraceMs: 1500,
  maxClients: 64,
  incompleteMs: 10_000,
  maxAudioSeconds: 120,
  maxTextChars: 20_000,
};

export type FlowMessage = Record<string, unknown>;
export type Emit = (msg: FlowMessage) => void;

/** What msg.wyoming says about the request a message belongs to. */
export interface RequestMeta {
  connection: string;
  /** 1 for the connection's first request, 2 for its second… */
  turn: number;
  /** The Wyoming event that opened it. */
  event: string;
  language?: string;
  voice?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

interface Request {
  turnId: string;
  service: Service;
  conn: Connection;
  meta: RequestMeta;
  answer: Answer;
  /** Handed to the flow (it had its turn at the gate). */
  open: boolean;
  /** The client's part is complete. */
  inputDone: boolean;
  /** Messages waiting for the gate. */
  held: FlowMessage[];
  audio?: AudioStream;
  audioEnded?: boolean;
  chunker?: SentenceChunker;
  timer?: NodeJS.Timeout;
  /** Runs while the client's part is incomplete: a client gone quiet must not hold the gate for ever. */
  idle?: NodeJS.Timeout;
  /** Answered, failed or dropped: late messages of its turn are dropped. */
  finished?: boolean;
}

/** asr turn ids remembered after their transcription ended, so that their late messages are dropped, not given to the next. */
const ASR_TURN_MEMORY = 256;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class WyomingServer extends EventEmitter {
  private readonly server: Server;
  private readonly current = new Map<Connection, Request>();
  private readonly requests = new Map<string, Request>();
  /** asr's own turn ids (its speech-start) → the transcription they belong to. */
  private readonly asrTurns = new Map<string, Request>();
  private readonly gates: Partial<Record<Service, Gate<Request>>> = { asr: new Gate(), handle: new Gate() };
  private readonly handlers = new Map<Service, Set<Emit>>();
  private readonly sockets = new Set<Socket>();
  private announcement: Announcement | undefined;
  private nextConnection = 0;

  constructor(readonly options: ServerOptions) {
    super();
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on host:port (port 0: any free port); resolves with the port. */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        const port = this.port;
        if (this.options.zeroconf) this.announcement = announce(this.options.agentName, port, (err) => this.emit('warning', `Zeroconf: ${err.message}`));
        resolve(port);
      });
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Open client connections. */
  get clients(): number {
    return this.sockets.size;
  }

  /** A wyoming-in node takes the requests of a service; returns the function that stops it. */
  listen(service: Service, emit: Emit): () => void {
    const set = this.handlers.get(service) ?? new Set<Emit>();
    this.handlers.set(service, set);
    set.add(emit);
    return () => set.delete(emit);
  }

  /**
   * A message the flow made (wyoming-out): it goes to the request of its turn
   * (msg.turnId), or, for the asr's transcripts, control and metrics, to the
   * transcription in progress. False when it belongs to no open request.
   */
  answer(msg: FlowMessage): boolean {
    const turnId = typeof msg.turnId === 'string' ? msg.turnId : '';
    let req = this.requests.get(turnId) ?? this.asrTurns.get(turnId);
    if (!req && (isTranscript(msg) || isControlMessage(msg) || (isMetrics(msg) && msg.stage === 'asr'))) {
      req = this.gates.asr?.current;
      if (req && isControlMessage(msg) && (msg.control as { type?: unknown }).type === 'speech-start') this.bindAsrTurn(turnId, req);
    }
    if (!req || !req.open || req.finished) return false;
    try {
      if (req.answer.take(msg)) this.finish(req);
    } catch (err) {
      this.fail(req, err as Error);
      throw err;
    }
    return true;
  }

  private bindAsrTurn(turnId: string, req: Request): void {
    this.asrTurns.set(turnId, req);
    // Maps iterate in insertion order: the first entry is the oldest.
    if (this.asrTurns.size > ASR_TURN_MEMORY) this.asrTurns.delete(this.asrTurns.keys().next().value as string);
  }

  async close(): Promise<void> {
    await this.announcement?.stop();
    this.announcement = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.emit('clients', this.clients);
    });
    const conn = new Connection(`c-${++this.nextConnection}`, socket, { event: (c, e) => this.event(c, e), closed: (c) => this.closed(c) }, this.options.incompleteMs);
    if (this.sockets.size > this.options.maxClients) {
      conn.fail(new WyomingError(`the server takes at most ${this.options.maxClients} clients at once`, 'busy'), true);
      return;
    }
    this.emit('clients', this.clients);
  }

  private closed(conn: Connection): void {
    const req = this.current.get(conn);
    if (req) this.cancel(req, 'disconnected');
  }

  private event(conn: Connection, event: WyomingEvent): void {
    try {
      this.dispatch(conn, event);
    } catch (err) {
      // A bad event of a request fails the request; one outside any (or of an unknown type) is only answered.
      const req = this.current.get(conn);
      if (req && (err as WyomingError).code !== 'unknown-event') this.fail(req, err as Error);
      else conn.fail(err as Error, false);
    }
  }

  private dispatch(conn: Connection, { type, data, payload }: WyomingEvent): void {
    const req = this.current.get(conn);
    switch (type) {
      case 'describe':
        return conn.write('info', infoData(this.options));
      case 'ping':
        return conn.write('pong', typeof data.text === 'string' ? { text: data.text } : {});
      case 'select-program':
        return; // every program of a domain is the same flow
      case 'transcribe':
        this.begin(conn, 'asr', type, { language: typeof data.language === 'string' ? data.language : undefined, context: isRecord(data.context) ? data.context : undefined });
        return;
      case 'audio-start':
        return this.audioStart(conn, req, data);
      case 'audio-chunk':
        return this.audioChunk(this.audioRequest(req, type), data, payload);
      case 'audio-stop':
        return this.audioStop(this.audioRequest(req, type));
      case 'synthesize':
        if (req?.chunker && !req.inputDone) return; // sent beside a stream for older servers: the stream has the text
        return this.synthesize(conn, data);
      case 'synthesize-start': {
        const stream = this.begin(conn, 'tts', type, { voice: isRecord(data.voice) ? data.voice : undefined, context: isRecord(data.context) ? data.context : undefined });
        stream.chunker = new SentenceChunker();
        return;
      }
      case 'synthesize-chunk':
        return this.synthesizeChunk(this.streamRequest(req, type), data);
      case 'synthesize-stop': {
        const stream = this.streamRequest(req, type);
        this.deliver(stream, { payload: stream.chunker!.flush().join(' '), complete: true });
        return this.inputComplete(stream);
      }
      case 'transcript':
        return this.handle(conn, data);
      default:
        throw new WyomingError(`unknown event type "${type.slice(0, 40)}": this server answers describe, transcribe + audio, synthesize (and its streaming form) and transcript`, 'unknown-event');
    }
  }

  /** Opens a request of the connection (a new one replaces the one before it). */
  private begin(conn: Connection, service: Service, event: string, extra: Partial<RequestMeta>): Request {
    const before = this.current.get(conn);
    if (before) this.cancel(before, 'replaced');
    if (!this.options.services.includes(service)) throw new WyomingError(`this server does not offer ${service} (see the wyoming-server node's services)`, 'no-flow');
    if (!this.handlers.get(service)?.size) throw new WyomingError(`no wyoming-in node handles ${service} in the flow`, 'no-flow');
    const turnId = newTurnId();
    const meta: RequestMeta = { connection: conn.id, turn: ++conn.turns, event, ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)) };
    const write = (type: string, data?: Record<string, unknown>, payload?: Buffer) => conn.write(type, data, payload);
    const answer: Answer =
      service === 'asr'
        ? new TranscriptAnswer(write, meta.language, this.options.transcriptGraceMs, () => this.graceOver(turnId))
        : service === 'tts'
          ? new AudioAnswer(write, event === 'synthesize-start')
          : new HandledAnswer(write, { ...(meta.context ?? {}), conversation_id: this.conversationId(meta) });
    const req: Request = { turnId, service, conn, meta, answer, open: false, inputDone: false, held: [] };
    this.requests.set(turnId, req);
    this.touch(req);
    this.current.set(conn, req);
    const gate = this.gates[service];
    if (!gate || gate.enter(req)) this.openRequest(req);
    return req;
  }

  private conversationId(meta: RequestMeta): string {
    const id = meta.context?.conversation_id;
    return typeof id === 'string' && id ? id : 'wyoming';
  }

  private audioStart(conn: Connection, req: Request | undefined, data: Record<string, unknown>): void {
    // audio-start without transcribe is a transcription too, as wyoming-faster-whisper takes it.
    const target = req?.service === 'asr' && !req.audio ? req : this.begin(conn, 'asr', 'audio-start', {});
    target.audio = new AudioStream(wireFormat(data));
    this.touch(target);
  }

  private audioRequest(req: Request | undefined, type: string): Request {
    if (!req?.audio || req.audioEnded) throw new WyomingError(`${type} without audio-start`, 'bad-request');
    return req;
  }

  private audioChunk(req: Request, data: Record<string, unknown>, payload: Buffer | undefined): void {
    this.touch(req);
    const audio = req.audio!;
    const frames = audio.push(data, payload);
    if (audio.seconds > this.options.maxAudioSeconds) throw new WyomingError(`more than ${this.options.maxAudioSeconds} s of audio in one transcription`, 'too-big');
    for (const frame of frames) this.deliver(req, audioFrame(frame, audio.format.rate));
  }

  private audioStop(req: Request): void {
    const audio = req.audio!;
    const last = audio.end();
    if (last) this.deliver(req, audioFrame(last, audio.format.rate));
    req.audioEnded = true;
    // asr ends the utterance in progress now.
    this.deliver(req, flushMessage(audio.format.rate));
    this.inputComplete(req);
  }

  private text(data: Record<string, unknown>, type: string): string {
    if (typeof data.text !== 'string') throw new WyomingError(`${type} has no "text"`, 'bad-request');
    if (data.text.length > this.options.maxTextChars) throw new WyomingError(`${type} has ${data.text.length} characters; the limit is ${this.options.maxTextChars}`, 'too-big');
    return data.text;
  }

  private synthesize(conn: Connection, data: Record<string, unknown>): void {
    const text = this.text(data, 'synthesize');
    if (!text.trim()) throw new WyomingError('synthesize has an empty "text": nothing to say', 'bad-request');
    const req = this.begin(conn, 'tts', 'synthesize', { voice: isRecord(data.voice) ? data.voice : undefined, context: isRecord(data.context) ? data.context : undefined });
    this.deliver(req, { payload: text });
    this.inputComplete(req);
  }

  private streamRequest(req: Request | undefined, type: string): Request {
    if (!req?.chunker || req.inputDone) throw new WyomingError(`${type} without synthesize-start`, 'bad-request');
    return req;
  }

  private synthesizeChunk(req: Request, data: Record<string, unknown>): void {
    this.touch(req);
    // Spoken sentence by sentence as the text streams in, as wyoming-piper does.
    for (const sentence of req.chunker!.push(this.text(data, 'synthesize-chunk'))) this.deliver(req, { payload: sentence, complete: false });
  }

  private handle(conn: Connection, data: Record<string, unknown>): void {
    const text = this.text(data, 'transcript').trim();
    if (!text) throw new WyomingError('transcript has an empty "text": nothing to answer', 'bad-request');
    const req = this.begin(conn, 'handle', 'transcript', { language: typeof data.language === 'string' ? data.language : undefined, context: isRecord(data.context) ? data.context : undefined });
    this.deliver(req, { payload: text, conversationId: this.conversationId(req.meta) });
    this.inputComplete(req);
  }

  /** A message for the flow, with the request's turn and msg.wyoming; held while the request waits for its turn. */
  private deliver(req: Request, msg: FlowMessage): void {
    const full = { ...msg, turnId: req.turnId, room: this.options.room, wyoming: req.meta };
    if (req.open) this.send(req, full);
    else req.held.push(full);
  }

  private send(req: Request, msg: FlowMessage): void {
    for (const emit of this.handlers.get(req.service) ?? []) emit(msg);
  }

  private openRequest(req: Request): void {
    req.open = true;
    for (const msg of req.held.splice(0)) this.send(req, msg);
    if (req.inputDone) this.awaitAnswer(req);
  }

  /** The client is still sending its part: the idle limit starts again. */
  private touch(req: Request): void {
    clearTimeout(req.idle);
    const seconds = this.options.answerTimeoutMs / 1000;
    req.idle = setTimeout(() => this.fail(req, new WyomingError(`the client sent nothing for ${seconds} s in the middle of ${req.meta.event}`, 'timeout')), this.options.answerTimeoutMs);
  }

  private inputComplete(req: Request): void {
    clearTimeout(req.idle);
    req.inputDone = true;
    if (req.open) this.awaitAnswer(req);
  }

  private awaitAnswer(req: Request): void {
    if (req.answer.inputDone()) return this.finish(req);
    req.timer = setTimeout(() => this.fail(req, new WyomingError(`no answer within ${this.options.answerTimeoutMs / 1000} s: wyoming-out got no ${req.answer.waitingFor} for it`, 'timeout')), this.options.answerTimeoutMs);
  }

  private graceOver(turnId: string): void {
    const req = this.requests.get(turnId);
    if (!req) return;
    (req.answer as TranscriptAnswer).expire();
    this.finish(req);
  }

  /** The request failed: the client hears why, the flow stops working on it. */
  private fail(req: Request, err: Error): void {
    if (!this.requests.has(req.turnId)) return;
    req.conn.fail(err, false);
    this.cancel(req, err.message);
  }

  /** Drops a request the client no longer waits for; a flow that was working on it is told to stop. */
  private cancel(req: Request, reason: string): void {
    if (!this.requests.has(req.turnId)) return;
    if (req.open) {
      // asr must not carry the unfinished utterance into the next client's audio.
      if (req.audio && !req.audioEnded) this.send(req, { ...flushMessage(req.audio.format.rate), turnId: req.turnId, wyoming: req.meta });
      this.send(req, { ...makeControl('interrupt', req.turnId, { source: 'wyoming-in', reason }), wyoming: req.meta });
    }
    this.finish(req);
  }

  /** The request is over: its bookkeeping goes and the next one of its service gets its turn. */
  private finish(req: Request): void {
    clearTimeout(req.timer);
    clearTimeout(req.idle);
    req.answer.dispose?.();
    req.finished = true;
    this.requests.delete(req.turnId);
    if (this.current.get(req.conn) === req) this.current.delete(req.conn);
    const next = this.gates[req.service]?.leave(req);
    if (next) this.openRequest(next);
  }
}
