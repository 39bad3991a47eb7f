import { SingleBar } from 'cli-progress';

export interface Progress {
  update(received: number, total: number | null): void;
  stop(): void;
}

const MB = 1024 * 1024;

/**
 * A progress bar on a terminal; on a pipe or in CI (no TTY) a plain line at
 * every 10 %, so logs stay readable.
 */
export function progressFor(label: string, stream: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr): Progress {
  if ((stream as NodeJS.WriteStream).isTTY) {
    const bar = new SingleBar({
      stream: stream as NodeJS.WriteStream,
      format: `${label} [{bar}] {percentage}% {done}/{all} MB {speed} MB/s ETA {eta_formatted}`,
      hideCursor: true,
    });
    const started = Date.now();
    let begun = false;
    return {
      update(received, total) {
        const all = total ?? received;
        const payload = { done: (received / MB).toFixed(1), all: (all / MB).toFixed(1), speed: (received / MB / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1) };
        if (!begun) {
          bar.start(all, received, payload);
          begun = true;
        } else {
          bar.setTotal(all);
          bar.update(received, payload);
        }
      },
      stop: () => bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    update(received, total) {
      const tenth = total ? Math.floor((received / total) * 10) : Math.floor(received / (10 * MB));
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      const what = total ? `${tenth * 10}% of ${(total / MB).toFixed(1)} MB` : `${(received / MB).toFixed(1)} MB`;
      stream.write(`${label}: ${what}\n`);
    },
    stop() {},
  };
}
