/**
 * Progress is reported as events, never printed by the library. The CLI renders them
 * (a bar on a TTY, plain lines under CI); library users subscribe or pass nothing.
 */
export type ProgressEvent =
  | { kind: 'stage'; stage: string; message: string }
  | { kind: 'progress'; stage: string; done: number; total: number; message?: string }
  | { kind: 'warning'; stage: string; message: string }
  | { kind: 'info'; stage: string; message: string };

export type ProgressListener = (event: ProgressEvent) => void;

export const silent: ProgressListener = () => {};
