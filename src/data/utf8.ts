/** UTF-8 validation on raw bytes, so invalid input is reported by line instead of silently becoming U+FFFD. */
import { isUtf8 } from 'node:buffer';

/** Bytes at the end of `buf` that start a multi-byte character not yet complete (0-3). */
export function incompleteTail(buf: Uint8Array): number {
  const n = buf.length;
  // Walk back over at most 3 continuation bytes to the lead byte.
  for (let back = 1; back <= Math.min(4, n); back++) {
    const b = buf[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export function validUtf8(buf: Uint8Array): boolean {
  return isUtf8(buf);
}

/** Offset (0-based line index within buf) of the first line holding invalid UTF-8, or -1. */
export function firstInvalidLineIndex(buf: Uint8Array): number {
  let start = 0;
  let index = 0;
  while (start <= buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    if (!isUtf8(buf.subarray(start, end))) return index;
    start = end + 1;
    index++;
  }
  return -1;
}

/** True when the bytes look binary (a NUL byte), i.e. not a text format at all. */
export function looksBinary(head: Uint8Array): boolean {
  return head.indexOf(0) >= 0;
}

export function startsWithParquetMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}
