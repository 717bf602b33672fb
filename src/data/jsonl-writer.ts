/** Streaming JSONL writer: batches lines into large writes and honours backpressure. */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { fsError } from '../errors.js';

const BATCH_CHARS = 1 << 16;

export class JsonlWriter {
  private readonly stream: WriteStream;
  private parts: string[] = [];
  private chars = 0;
  private failure: Error | null = null;
  lines = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (e) => {
      this.failure = fsError(path, 'write', e) as Error;
    });
  }

  /** Write one line (no '\n'). Returns a promise only when the caller must wait for the disk. */
  writeLine(line: string): Promise<void> | undefined {
    this.parts.push(line);
    this.chars += line.length + 1;
    this.lines++;
    if (this.chars < BATCH_CHARS) return undefined;
    return this.flush();
  }

  writeValue(value: unknown): Promise<void> | undefined {
    return this.writeLine(JSON.stringify(value));
  }

  /** Push buffered lines to the stream; wait for 'drain' if its buffer is full. */
  flush(): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.parts.length === 0) return undefined;
    const text = this.parts.join('\n') + '\n';
    this.parts = [];
    this.chars = 0;
    if (this.stream.write(text)) return undefined;
    return once(this.stream, 'drain').then(() => undefined);
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.stream.end((e?: Error | null) => (e ? reject(this.failure ?? fsError(this.path, 'write', e)) : resolve()));
    });
    if (this.failure) throw this.failure;
  }
}
