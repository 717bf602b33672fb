/**
 * `train.service.headers`: extra request headers for gateways and organisation or project ids.
 * A value `env:NAME` is read from that environment variable (so a secret never sits in the config
 * or the report) and redacted from every message like the API key. Checked before any request:
 * header names are HTTP tokens, each named once (case-insensitively), none of the ones the client
 * sets itself, and no value can break a header line (CR, LF, NUL) or is empty.
 */
import { AuditInputError } from '../errors.js';

/** Set by the client (the key's header, the body's type) or by fetch (framing): not configurable. */
const RESERVED = new Set(['authorization', 'api-key', 'content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

export interface ResolvedHeaders {
  headers: Record<string, string>;
  /** Values read from the environment: redacted wherever a message could show them. */
  secrets: string[];
}

export function resolveServiceHeaders(given: Readonly<Record<string, string>> | undefined, env: NodeJS.ProcessEnv): ResolvedHeaders {
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  const seen = new Map<string, string>();
  for (const [name, raw] of Object.entries(given ?? {})) {
    const where = `train.service.headers.${name}`;
    if (!TOKEN.test(name)) throw new AuditInputError(`${JSON.stringify(where)}: not a valid HTTP header name`);
    const lower = name.toLowerCase();
    if (RESERVED.has(lower)) throw new AuditInputError(`${where}: set by audit-dataset itself (the key goes in train.service.apiKeyEnv, its header in train.service.auth)`);
    const earlier = seen.get(lower);
    if (earlier !== undefined) throw new AuditInputError(`${where}: the same header as train.service.headers.${earlier} (header names ignore case)`);
    seen.set(lower, name);
    const ref = ENV_REF.exec(raw);
    let value = raw;
    if (ref) {
      const fromEnv = env[ref[1]!];
      if (!fromEnv) throw new AuditInputError(`${where}: the environment variable ${ref[1]} is not set`);
      value = fromEnv;
      secrets.push(fromEnv);
    }
    // fetch would refuse these too, but later and without naming the setting.
    if (/[\r\n\0]/.test(value)) throw new AuditInputError(`${where}: the value holds a line break or NUL`);
    if (value.trim() === '') throw new AuditInputError(`${where}: the value is empty`);
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw new AuditInputError(`${where}: the value holds a character an HTTP header cannot carry`);
    headers[name] = value;
  }
  return { headers, secrets };
}
