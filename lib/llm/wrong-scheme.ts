import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { buildConnector } from 'undici';
import { LlmEngineError } from './engine';

/**
 * A URL with the wrong scheme, found fast. An `https://` URL to a plain-HTTP
 * server (llama-server without TLS) never fails on its own: the server waits
 * for a request line the TLS hello never ends, the client waits for a server
 * hello, and undici gives up after its 10 s connect timeout saying only
 * "not reachable". An `http://` URL to a TLS server gets the connection
 * closed, which says nothing either. A probe in the other scheme names the
 * cause.
 */

/** A TLS handshake on a LAN takes milliseconds: past this, look whether the port speaks plain HTTP. */
const HANDSHAKE_PATIENCE_MS = 1000;
const PROBE_TIMEOUT_MS = 2000;

/** True when host:port answers a plain HTTP request with an HTTP status line. */
export function speaksPlainHttp(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    let answer = '';
    const done = (plain: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(plain);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write(`HEAD / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      if (answer.length >= 5) done(answer.startsWith('HTTP/'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(answer.startsWith('HTTP/')));
  });
}

/** True when host:port completes a TLS handshake (any certificate: this only names the scheme). */
export function speaksTls(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false });
    const done = (tls: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(tls);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('secureConnect', () => done(true));
    socket.on('error', () => done(false));
  });
}

/** The URL with the other scheme, for the error text. */
function otherScheme(url: string, scheme: 'http' | 'https'): string {
  return url.replace(/^https?:/i, `${scheme}:`);
}

export function notTlsError(url: string): LlmEngineError {
  return new LlmEngineError(`the server at ${url} speaks plain HTTP, not TLS: use ${otherScheme(url, 'http')}`, 'NOT_TLS');
}

export function notHttpError(url: string): LlmEngineError {
  return new LlmEngineError(`the server at ${url} speaks TLS: use ${otherScheme(url, 'https')}`, 'NOT_HTTP');
}

/**
 * undici's own TLS connector, which also fails fast with NOT_TLS when the
 * handshake stalls and the port answers plain HTTP.
 */
export function tlsConnectorNamingPlainHttp(url: string, allowH2: boolean): buildConnector.connector {
  const connect = buildConnector({ allowH2 });
  return (options, callback) => {
    let settled = false;
    const finish: buildConnector.Callback = (...result) => {
      const [err, socket] = result;
      if (settled) {
        if (!err) socket.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      callback(...result);
    };
    // undici's connector returns the socket it opens (its typings say void): the probe's verdict closes it.
    const socket = (connect as (...args: Parameters<typeof connect>) => Socket | undefined)(options, finish);
    const port = Number(options.port) || 443;
    const timer = setTimeout(() => {
      void speaksPlainHttp(options.hostname, port).then((plain) => {
        if (!plain || settled) return;
        socket?.destroy();
        finish(notTlsError(url), null);
      });
    }, HANDSHAKE_PATIENCE_MS);
    return socket;
  };
}
