/**
 * The subset of OpenAI's REST API that a service audit uses, typed as the published reference
 * (github.com/openai/openai-openapi) gives the objects: files, fine-tuning jobs and their events,
 * chat completions with log-probabilities. Fields the audit does not read are left out.
 */

/** `POST /files` and `GET /files` items (purpose fine-tune). */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status?: 'uploaded' | 'processed' | 'error';
}

export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** `POST /fine_tuning/jobs` body (the supervised method's hyperparameters). */
export interface CreateJobRequest {
  model: string;
  training_file: string;
  seed: number;
  suffix?: string;
  /** The fine-tuning method (the top-level `hyperparameters` field is deprecated in its favour). */
  method: { type: 'supervised'; supervised: { hyperparameters: SupervisedHyperparameters } };
  metadata?: Record<string, string>;
}

export interface SupervisedHyperparameters {
  n_epochs?: number | 'auto';
  batch_size?: number | 'auto';
  learning_rate_multiplier?: number | 'auto';
}

/** A fine-tuning job as `GET /fine_tuning/jobs/{id}` returns it. */
export interface FineTuningJob {
  id: string;
  object: 'fine_tuning.job';
  model: string;
  status: JobStatus;
  training_file: string;
  fine_tuned_model: string | null;
  trained_tokens: number | null;
  seed?: number;
  created_at: number;
  finished_at?: number | null;
  estimated_finish?: number | null;
  error?: { code?: string | null; message?: string | null; param?: string | null } | null;
  hyperparameters?: Record<string, unknown>;
  metadata?: Record<string, string> | null;
}

export interface JobEvent {
  id: string;
  object: 'fine_tuning.job.event';
  created_at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  type?: 'message' | 'metrics';
  data?: Record<string, unknown> | null;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more?: boolean;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'developer';
  content: string;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  n?: number;
  seed?: number;
  logprobs?: boolean;
  top_logprobs?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null };
    finish_reason: string;
    logprobs?: { content: (TokenLogprob & { top_logprobs: TokenLogprob[] })[] | null } | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The error body every endpoint returns on failure. */
export interface ApiErrorBody {
  error?: { message?: string; type?: string; code?: string | null; param?: string | null };
}
