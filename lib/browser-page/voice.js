// The voice satellite page: microphone and speaker of one room's sound card.
// Plain script, no build step. window.voice exposes the state for tests.
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var token = params.get('token') || '';
  // ?processing=off turns the browser's echo cancellation, noise suppression and gain control off (tests, a headset).
  var processing = params.get('processing') !== 'off';
  var RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];
  var CLOSE_REPLACED = 4000;
  var el = function (id) {
    return document.getElementById(id);
  };
  var room = decodeURIComponent(document.baseURI.replace(/\/$/, '').split('/').pop());
  el('room').textContent = room;

  var voice = (window.voice = { room: room, connected: false, sent: 0, received: 0, played: 0, epoch: 0, error: '', format: null, track: null });
  var ctx, capture, playback, ws, failures = 0, retryTimer, healthyTimer, recordingDone;

  function say(text, isError) {
    el('status').textContent = text;
    el('status').className = isError ? 'error' : '';
    if (isError) voice.error = text;
  }

  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.AudioWorkletNode) {
    say(
      window.isSecureContext
        ? 'This browser cannot capture audio here (no getUserMedia or AudioWorklet): use a current Chrome, Firefox or Safari.'
        : 'The microphone needs a secure page: open this address over https:// (or from this machine, as http://localhost).',
      true,
    );
    el('start').disabled = true;
    return;
  }

  el('start').addEventListener('click', function () {
    el('start').disabled = true;
    // Created inside the click: browsers let audio start only from a gesture.
    ctx = new AudioContext({ latencyHint: 'interactive' });
    start().catch(function (err) {
      el('start').disabled = false;
      if (err && (err.name === 'NotAllowedError' || err.name === 'SecurityError')) {
        say('The microphone was refused: allow it for this site (the icon next to the address) and press Start again.', true);
      } else if (err && err.name === 'NotFoundError') {
        say('No microphone found: connect one and press Start again.', true);
      } else say('Could not start: ' + (err && err.message ? err.message : String(err)), true);
    });
  });

  async function ticket() {
    var res = await fetch('ticket' + (token ? '?token=' + encodeURIComponent(token) : ''), { cache: 'no-store' });
    if (res.status === 401) throw Object.assign(new Error('wrong or missing token: open the address with ?token=…'), { fatal: true });
    if (!res.ok) throw new Error('Node-RED answered ' + res.status);
    return res.json();
  }

  async function start() {
    say('Starting…');
    var info = await ticket();
    voice.format = { sampleRate: info.sampleRate, frameSamples: info.frameSamples };
    var stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing, channelCount: 1 },
    });
    voice.track = stream.getAudioTracks()[0].getSettings();
    await ctx.audioWorklet.addModule('capture-worklet.js');
    await ctx.audioWorklet.addModule('playback-worklet.js');
    var options = { processorOptions: { rate: info.sampleRate, frame: info.frameSamples } };
    capture = new AudioWorkletNode(ctx, 'capture', options);
    playback = new AudioWorkletNode(ctx, 'playback', Object.assign({ outputChannelCount: [1] }, options));
    // The capture node is pulled by the graph: through a muted gain, it plays nothing.
    var mute = ctx.createGain();
    mute.gain.value = 0;
    ctx.createMediaStreamSource(stream).connect(capture).connect(mute).connect(ctx.destination);
    playback.connect(ctx.destination);
    capture.port.onmessage = function (e) {
      el('level').style.width = Math.min(100, Math.round(e.data.peak * 140)) + '%';
      if (ws && ws.readyState === WebSocket.OPEN && voice.connected) {
        ws.send(e.data.frame);
        voice.sent++;
      }
    };
    playback.port.onmessage = function (e) {
      if (e.data.recording) return recordingDone && recordingDone(e.data.recording);
      voice.played++;
      // Receipts name the clear they belong to: those crossing a clear on the wire are ignored by Node-RED.
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'played', epoch: e.data.played, count: 1 }));
    };
    await ctx.resume();
    connect(info);
  }

  function connect(info) {
    clearTimeout(retryTimer);
    var url = new URL('ws', document.baseURI);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('ticket', info.ticket);
    if (token) url.searchParams.set('token', token);
    ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = function (e) {
      if (typeof e.data !== 'string') {
        voice.received++;
        return playback.port.postMessage({ frame: e.data, epoch: voice.epoch }, [e.data]);
      }
      var m = JSON.parse(e.data);
      if (m.type === 'config') {
        if (m.sampleRate !== voice.format.sampleRate || m.frameSamples !== voice.format.frameSamples) return location.reload();
        voice.epoch = 0;
        playback.port.postMessage({ clear: true });
        ws.send(JSON.stringify({ type: 'hello', sampleRate: m.sampleRate, frameSamples: m.frameSamples }));
        voice.connected = true;
        // The back-off starts over only once a connection has lasted: a page Node-RED keeps refusing backs off.
        clearTimeout(healthyTimer);
        healthyTimer = setTimeout(function () {
          failures = 0;
        }, 10000);
        voice.error = '';
        say('Listening.');
      } else if (m.type === 'clear') {
        voice.epoch = m.epoch;
        playback.port.postMessage({ clear: true });
      } else if (m.type === 'error') {
        say('Node-RED: ' + m.message, true);
      } else if (m.type === 'heard') {
        el('heard').textContent = m.text;
        el('heard').style.opacity = m.final ? 1 : 0.6;
      } else if (m.type === 'said') {
        el('said').textContent = m.text;
      }
    };
    ws.onclose = function (e) {
      voice.connected = false;
      clearTimeout(healthyTimer);
      if (playback) playback.port.postMessage({ clear: true });
      if (e.code === CLOSE_REPLACED) return say('Another page took this room. Reload to take it back.', true);
      if (!voice.error || e.code === 1001) say('Disconnected (' + (e.reason || 'no answer') + '); reconnecting…', !!e.reason && e.code !== 1001);
      reconnect();
    };
  }

  function reconnect() {
    var wait = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)];
    retryTimer = setTimeout(function () {
      ticket().then(connect, function (err) {
        if (err.fatal) return say(err.message, true);
        say('Node-RED unreachable; retrying…', true);
        reconnect();
      });
    }, wait);
  }

  /** Tests: records what the page plays until stopRecording(), at the page's rate. */
  voice.startRecording = function () {
    playback.port.postMessage({ record: true });
  };
  voice.stopRecording = function () {
    return new Promise(function (resolve) {
      recordingDone = function (chunks) {
        var n = chunks.reduce(function (s, c) { return s + c.length; }, 0);
        var all = new Float32Array(n);
        var at = 0;
        chunks.forEach(function (c) { all.set(c, at); at += c.length; });
        resolve({ sampleRate: ctx.sampleRate, samples: Array.from(all) });
      };
      playback.port.postMessage({ record: false });
    });
  };
})();
