/**
 * Reaching services that are not api.openai.com: Azure OpenAI's api-key header and api-version
 * query, and a gateway's extra headers (values from the environment redacted like the key).
 * Every bad setting is a one-line input error naming it, before any request.
 */
import { describe, expect, it } from 'vitest';
import { ServiceBackend } from '../../src/audit/serviceBackend.js';
import { validateConfig } from '../../src/config/index.js';
import { AuditInputError } from '../../src/errors.js';
import { ServiceClient } from '../../src/service/client.js';
import { resolveServiceHeaders } from '../../src/service/headers.js';

interface Seen {
  url: string;
  headers: Record<string, string>;
}

/** A fetch that records each request and answers with `status` and `body`. */
function recorder(status = 200, body: unknown = { object: 'list', data: [], has_more: false }): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const f = (async (url: string | URL, init?: RequestInit) => {
    seen.push({ url: String(url), headers: { ...(init?.headers as Record<string, string>) } });
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
  return { fetch: f, seen };
}

describe('service connection settings', () => {
  it('sends the key as api-key with api-version on every path (Azure OpenAI), extra headers beside it', async () => {
    const r = recorder();
    const client = new ServiceClient({ baseURL: 'https://x.openai.azure.com/openai/v1/', apiKey: 'azure-key-1234', auth: 'api-key', apiVersion: '2025-04-01-preview', headers: { 'x-ms-client': 'audit' }, maxAttempts: 1, fetch: r.fetch });
    await client.listJobs();
    await client.retrieveJob('ftjob-1');
    expect(r.seen.map((s) => s.url)).toEqual([
      'https://x.openai.azure.com/openai/v1/fine_tuning/jobs?limit=100&api-version=2025-04-01-preview',
      'https://x.openai.azure.com/openai/v1/fine_tuning/jobs/ftjob-1?api-version=2025-04-01-preview',
    ]);
    expect(r.seen[0]!.headers).toEqual({ 'x-ms-client': 'audit', 'api-key': 'azure-key-1234' });
  });

  it('keeps Bearer auth by default and redacts header values read from the environment', async () => {
    const { headers, secrets } = resolveServiceHeaders({ 'X-Gateway-Key': 'env:GATEWAY_KEY', 'OpenAI-Project': 'proj_1' }, { GATEWAY_KEY: 'gw-secret-value' });
    expect(headers).toEqual({ 'X-Gateway-Key': 'gw-secret-value', 'OpenAI-Project': 'proj_1' });
    const r = recorder(400, { error: { message: 'gateway rejected gw-secret-value and sk-test-key' } });
    const client = new ServiceClient({ baseURL: 'http://gw/v1', apiKey: 'sk-test-key', headers, secrets, maxAttempts: 1, fetch: r.fetch });
    const error = await client.listFiles().catch((e: Error) => e);
    expect(r.seen[0]!.headers).toMatchObject({ authorization: 'Bearer sk-test-key', 'X-Gateway-Key': 'gw-secret-value' });
    expect((error as Error).message).toBe('GET /files?purpose=fine-tune&limit=10000: HTTP 400: gateway rejected [redacted] and [redacted]');
  });

  it('refuses bad header settings in one line naming the setting', () => {
    const bad: [Record<string, string>, NodeJS.ProcessEnv, RegExp][] = [
      [{ 'bad name': 'x' }, {}, /^"train\.service\.headers\.bad name": not a valid HTTP header name$/],
      [{ Authorization: 'Bearer other' }, {}, /^train\.service\.headers\.Authorization: set by audit-dataset itself/],
      [{ 'API-KEY': 'x' }, {}, /headers\.API-KEY: set by audit-dataset itself/],
      [{ 'X-A': '1', 'x-a': '2' }, {}, /^train\.service\.headers\.x-a: the same header as train\.service\.headers\.X-A/],
      [{ 'X-A': 'env:MISSING_VAR' }, {}, /^train\.service\.headers\.X-A: the environment variable MISSING_VAR is not set$/],
      [{ 'X-A': 'ok\r\nX-Injected: 1' }, {}, /^train\.service\.headers\.X-A: the value holds a line break or NUL$/],
      [{ 'X-A': 'env:INJECT' }, { INJECT: 'a\nb' }, /the value holds a line break or NUL/],
      [{ 'X-A': '  ' }, {}, /the value is empty/],
      [{ 'X-A': 'caf\u00e9 \u2603' }, {}, /a character an HTTP header cannot carry/],
    ];
    for (const [headers, env, message] of bad) {
      let error: unknown;
      try {
        resolveServiceHeaders(headers, env);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(headers)).toBeInstanceOf(AuditInputError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('takes auth, apiVersion and headers from audit.yaml into every request of a service audit', async () => {
    const config = validateConfig(
      {
        teacher: 'ft:teacher',
        base: 'base-model',
        data: 'data.jsonl',
        task: { kind: 'text' },
        probes: [{ name: 'p', kind: 'agreement', data: 'p.jsonl' }],
        train: { backend: 'openai', service: { baseURL: 'https://x.openai.azure.com/openai/v1', apiKeyEnv: 'AZ_KEY', auth: 'api-key', apiVersion: 'preview', headers: { 'X-Trace': 'env:TRACE' }, model: 'base-model', teacherModel: 'ft:teacher' } },
      },
      'test',
    );
    expect(() => ServiceBackend.fromConfig(config, { env: { AZ_KEY: 'k-123456' } })).toThrow(/train\.service\.headers\.X-Trace: the environment variable TRACE is not set/);
    const r = recorder();
    const backend = ServiceBackend.fromConfig(config, { env: { AZ_KEY: 'k-123456', TRACE: 't-99' }, fetch: r.fetch });
    try {
      await (backend as unknown as { client: ServiceClient }).client.listJobs();
    } finally {
      await backend.close();
    }
    expect(r.seen[0]).toEqual({ url: 'https://x.openai.azure.com/openai/v1/fine_tuning/jobs?limit=100&api-version=preview', headers: { 'X-Trace': 't-99', 'api-key': 'k-123456' } });
  });
});
