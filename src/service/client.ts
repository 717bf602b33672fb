/**
 * An HTTP client for an OpenAI-compatible fine-tuning service, on Node's built-in fetch.
 * - Retries 429, 5xx and network errors with exponential backoff and jitter (seeded: the project's
 *   PRNG), honouring `Retry-After` (seconds or an HTTP date) and `retry-after-ms`; bounded attempts.
 * - Any other failure is a ServiceError (exit 2) carrying the service's own message.
 * - The API key goes into the Authorization (or Azure's api-key) header and nowhere else: every
 *   message that leaves this module passes through `redact`, so a service echoing the key (or a
 *   header value read from the environment) back cannot leak it.
 */
import { AuditInputError } from '../errors.js';
import { Random } from '../random.js';
import type { ApiErrorBody, ChatCompletion, ChatCompletionRequest, CreateJobRequest, FileObject, FineTuningJob, JobEvent, ListPage } from './api.js';

/** A failure of the service (or of reaching it): one line, the key redacted; exit 2. */
export class ServiceError extends AuditInputError {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface RetryNotice {
  method: string;
  path: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface ServiceClientOptions {
  baseURL: string;
  apiKey: string;
  /** How the key is sent: `Authorization: Bearer KEY` (default) or `api-key: KEY` (Azure OpenAI). */
  auth?: 'bearer' | 'api-key';
  /** Sent as `api-version=` on every request (Azure OpenAI). */
  apiVersion?: string;
  /** Extra request headers (already checked and resolved: src/service/headers.ts). */
  headers?: Readonly<Record<string, string>>;
  /** Values to redact like the key (header values read from the environment). */
  secrets?: readonly string[];
  /** Attempts per request (1 = no retries). */
  maxAttempts: number;
  /** First backoff delay; doubles per attempt, with jitter in [0.5, 1.5). */
  backoffMs?: number;
  /** Cap of one wait (Retry-After included). */
  maxDelayMs?: number;
  /** Seed of the jitter stream. */
  seed?: number;
  onRetry?: (notice: RetryNotice) => void;
  /** Aborts waits and requests (the audit's time limit, Ctrl-C). */
  signal?: AbortSignal;
  /** Per-request timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const RETRYABLE = (status: number) => status === 429 || status === 408 || status === 409 || status >= 500;

/** Milliseconds a `Retry-After` / `retry-after-ms` header asks for, or undefined. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export class ServiceClient {
  private readonly random: Random;
  private readonly baseURL: string;

  constructor(private readonly options: ServiceClientOptions) {
    this.random = new Random(options.seed ?? 1);
    this.baseURL = options.baseURL.replace(/\/+$/, '');
  }

  /** `text` with the API key replaced (the key is never shown, whole or in part). */
  redact(text: string): string {
    let out = text;
    for (const secret of [this.options.apiKey, ...(this.options.secrets ?? [])]) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    return out;
  }

  /** The URL of `path` (which may hold a query already), with the api-version when set. */
  private url(path: string): string {
    const version = this.options.apiVersion;
    return `${this.baseURL}${path}${version ? `${path.includes('?') ? '&' : '?'}api-version=${encodeURIComponent(version)}` : ''}`;
  }

  private headers(body: unknown): Record<string, string> {
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.auth === 'api-key') headers['api-key'] = this.options.apiKey;
    else headers.authorization = `Bearer ${this.options.apiKey}`;
    if (body !== undefined && !(body instanceof FormData)) headers['content-type'] = 'application/json';
    return headers;
  }

  private async sleep(ms: number): Promise<void> {
    const signal = this.options.signal;
    if (signal?.aborted) throw this.aborted();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private aborted(): ServiceError {
    const reason: unknown = this.options.signal?.reason;
    return reason instanceof ServiceError ? reason : new ServiceError(`service request aborted${reason instanceof Error ? `: ${this.redact(reason.message)}` : ''}`);
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffMs ?? 1000;
    return Math.min(this.options.maxDelayMs ?? 60_000, base * 2 ** (attempt - 1) * (0.5 + this.random.next()));
  }

  /** One API call with retries; the parsed JSON body on success. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const { maxAttempts } = this.options;
    const fetchImpl = this.options.fetch ?? fetch;
    const url = this.url(path);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        const signals = [this.options.signal, this.options.timeoutMs ? AbortSignal.timeout(this.options.timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
        response = await fetchImpl(url, {
          method,
          headers: this.headers(body),
          ...(body !== undefined ? { body: body instanceof FormData ? body : JSON.stringify(body) } : {}),
          ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
        });
      } catch (e) {
        if (this.options.signal?.aborted) throw this.aborted();
        const reason = `network error: ${networkReason(e)}`;
        if (attempt >= maxAttempts) throw new ServiceError(this.redact(`${method} ${path}: ${reason} (after ${attempt} attempts)`));
        await this.retryWait(method, path, attempt, this.backoff(attempt), reason);
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.ok) {
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new ServiceError(this.redact(`${method} ${path}: the service answered ${response.status} with a body that is not JSON`), response.status);
        }
      }
      const message = serviceMessage(text);
      const reason = `HTTP ${response.status}${message ? `: ${message}` : ''}`;
      if (!RETRYABLE(response.status) || attempt >= maxAttempts) {
        throw new ServiceError(this.redact(`${method} ${path}: ${reason}${attempt > 1 ? ` (after ${attempt} attempts)` : ''}`), response.status);
      }
      const asked = retryAfterMs(response.headers);
      const delay = Math.min(this.options.maxDelayMs ?? 60_000, asked ?? this.backoff(attempt));
      await this.retryWait(method, path, attempt, delay, reason);
    }
  }

  private async retryWait(method: string, path: string, attempt: number, delayMs: number, reason: string): Promise<void> {
    this.options.onRetry?.({ method, path, attempt, delayMs, reason: this.redact(reason) });
    await this.sleep(delayMs);
  }

  uploadFile(filename: string, content: string): Promise<FileObject> {
    const form = new FormData();
    form.append('purpose', 'fine-tune');
    form.append('file', new Blob([content], { type: 'application/jsonl' }), filename);
    return this.request<FileObject>('POST', '/files', form);
  }

  listFiles(): Promise<ListPage<FileObject>> {
    return this.request('GET', '/files?purpose=fine-tune&limit=10000');
  }

  createJob(body: CreateJobRequest): Promise<FineTuningJob> {
    return this.request('POST', '/fine_tuning/jobs', body);
  }

  listJobs(): Promise<ListPage<FineTuningJob>> {
    return this.request('GET', '/fine_tuning/jobs?limit=100');
  }

  retrieveJob(id: string): Promise<FineTuningJob> {
    return this.request('GET', `/fine_tuning/jobs/${encodeURIComponent(id)}`);
  }

  listEvents(id: string, limit = 20): Promise<ListPage<JobEvent>> {
    return this.request('GET', `/fine_tuning/jobs/${encodeURIComponent(id)}/events?limit=${limit}`);
  }

  cancelJob(id: string): Promise<FineTuningJob> {
    return this.request('POST', `/fine_tuning/jobs/${encodeURIComponent(id)}/cancel`);
  }

  chat(body: ChatCompletionRequest): Promise<ChatCompletion> {
    return this.request('POST', '/chat/completions', body);
  }
}

/** The service's `error.message` (or the body's start), on one line. */
function serviceMessage(text: string): string {
  try {
    const body = JSON.parse(text) as ApiErrorBody;
    if (body.error?.message) return oneLine(body.error.message);
  } catch {
    // not JSON: show the start of the body
  }
  return oneLine(text).slice(0, 200);
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return oneLine(cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)));
}
