// Splits a byte stream of concatenated JPEG images (ffmpeg's mjpeg muxer) into frames.
// Bytes outside an SOI..EOI pair are discarded and counted.

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

export class MjpegSplitter {
  #buf: Buffer = Buffer.alloc(0);
  #scanFrom = 0;
  /** Bytes thrown away because they were not inside a JPEG. */
  garbage = 0;
  /** Largest frame accepted; anything longer is dropped as garbage (a broken stream). */
  constructor(private readonly maxFrameBytes = 32 * 1024 * 1024) {}

  push(chunk: Buffer): Buffer[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const start = this.#buf.indexOf(SOI);
      if (start < 0) {
        // Keep a trailing 0xff: it may be the first half of the next SOI.
        const keep = this.#buf.length && this.#buf[this.#buf.length - 1] === 0xff ? 1 : 0;
        this.garbage += this.#buf.length - keep;
        this.#buf = this.#buf.subarray(this.#buf.length - keep);
        this.#scanFrom = 0;
        break;
      }
      if (start > 0) {
        this.garbage += start;
        this.#buf = this.#buf.subarray(start);
        this.#scanFrom = 0;
      }
      const end = this.#buf.indexOf(EOI, Math.max(2, this.#scanFrom));
      if (end < 0) {
        this.#scanFrom = Math.max(2, this.#buf.length - 1);
        if (this.#buf.length > this.maxFrameBytes) {
          this.garbage += this.#buf.length;
          this.#buf = Buffer.alloc(0);
          this.#scanFrom = 0;
        }
        break;
      }
      // Copy out: the frame is transferred to a worker and must own its memory.
      out.push(Buffer.from(this.#buf.subarray(0, end + 2)));
      this.#buf = this.#buf.subarray(end + 2);
      this.#scanFrom = 0;
    }
    return out;
  }
}
