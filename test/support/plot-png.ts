/**
 * Line charts as PNG files, with nothing but zlib: a panel per series, its
 * range written beside it in a 3x5 pixel digit font. Enough to see a leak or
 * a lag spike at a glance; the numbers are in the table next to it.
 */
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

export interface Series {
  /** x and y of each point. */
  points: [number, number][];
  /** RGB of the line. */
  colour: [number, number, number];
}

const DIGITS: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001001001001', '8': '111101111101111', '9': '111101111001111',
  '.': '000000000000010', '-': '000000111000000',
};

class Canvas {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }
  set(x: number, y: number, [r, g, b]: [number, number, number]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (Math.round(y) * this.width + Math.round(x)) * 3;
    this.pixels[i] = r;
    this.pixels[i + 1] = g;
    this.pixels[i + 2] = b;
  }
  line(x0: number, y0: number, x1: number, y1: number, colour: [number, number, number]): void {
    const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let s = 0; s <= steps; s++) this.set(x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, colour);
  }
  text(x: number, y: number, text: string, scale = 2): void {
    for (const ch of text) {
      const glyph = DIGITS[ch];
      if (glyph) for (let i = 0; i < 15; i++) if (glyph[i] === '1') for (let dx = 0; dx < scale; dx++) for (let dy = 0; dy < scale; dy++) this.set(x + (i % 3) * scale + dx, y + Math.floor(i / 3) * scale + dy, [0, 0, 0]);
      x += 4 * scale;
    }
  }
  png(): Buffer {
    const raw = Buffer.alloc((this.width * 3 + 1) * this.height);
    for (let y = 0; y < this.height; y++) Buffer.from(this.pixels.buffer, y * this.width * 3, this.width * 3).copy(raw, y * (this.width * 3 + 1) + 1);
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const out = Buffer.alloc(8 + data.length + 4);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), 8 + data.length);
      return out;
    };
    const header = Buffer.alloc(13);
    header.writeUInt32BE(this.width, 0);
    header.writeUInt32BE(this.height, 4);
    header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
    return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
  }
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

/** Writes one panel per series, stacked, sharing the x axis; each panel's y range from 0 (or its minimum) to its maximum. */
export function plotPanels(path: string, panels: Series[], width = 900, panelHeight = 220): void {
  const left = 70;
  const canvas = new Canvas(width, panelHeight * panels.length);
  const xs = panels.flatMap((p) => p.points.map(([x]) => x));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  panels.forEach((panel, k) => {
    const top = k * panelHeight + 15;
    const bottom = (k + 1) * panelHeight - 25;
    const ys = panel.points.map(([, y]) => y);
    const yMin = Math.min(0, ...ys);
    const yMax = Math.max(...ys, yMin + 1e-9);
    const px = (x: number) => left + ((x - xMin) / (xMax - xMin || 1)) * (width - left - 15);
    const py = (y: number) => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top);
    canvas.line(left, top, left, bottom, [0, 0, 0]);
    canvas.line(left, bottom, width - 15, bottom, [0, 0, 0]);
    canvas.text(4, top, fmt(yMax));
    canvas.text(4, bottom - 10, fmt(yMin));
    canvas.text(left, bottom + 8, fmt(xMin));
    canvas.text(width - 70, bottom + 8, fmt(xMax));
    for (let i = 1; i < panel.points.length; i++) {
      const [a, b] = [panel.points[i - 1], panel.points[i]];
      canvas.line(px(a[0]), py(a[1]), px(b[0]), py(b[1]), panel.colour);
    }
  });
  writeFileSync(path, canvas.png());
}
