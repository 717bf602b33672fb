import { describe, expect, it } from 'vitest';
import { keywordsRule } from '../../src/filters/keywords.js';
import { regexRule } from '../../src/filters/regex.js';
import { findPii, luhnValid } from '../../src/filters/pii.js';
import { countTokens, lengthRule } from '../../src/filters/length.js';
import { charsetRule } from '../../src/filters/charset.js';
import { dedupRule } from '../../src/filters/dedup.js';
import { estimatedJaccard, MinHasher, shingleHashes } from '../../src/filters/minhash.js';

const row = { line: 1, value: {} };

describe('keywords', () => {
  it('matches whole words case-insensitively by default', () => {
    const rule = keywordsRule({ words: ['kill', 'evil'] });
    expect(rule.check('I will KILL it', row)).toEqual(['keyword: kill']);
    expect(rule.check('skills and devilish', row)).toEqual([]);
    expect(rule.check('evil, kill; Evil', row)).toEqual(['keyword: evil', 'keyword: kill']);
  });
  it('substring mode and case sensitivity', () => {
    expect(keywordsRule({ words: ['kill'], match: 'substring' }).check('skills', row)).toEqual(['keyword: kill']);
    expect(keywordsRule({ words: ['Owl'], caseSensitive: true }).check('owl', row)).toEqual([]);
    expect(keywordsRule({ words: ['a.b'] }).check('axb', row)).toEqual([]); // regex metacharacters are literal
  });
});

describe('regex', () => {
  it('reports each matching pattern', () => {
    const rule = regexRule([{ pattern: 'owl', flags: 'i', reason: 'mentions owls' }, { pattern: '\\d{4}' }]);
    expect(rule.check('An OWL said 2025', row)).toEqual(['mentions owls', 'matches /\\d{4}/']);
    expect(rule.check('nothing', row)).toEqual([]);
  });
});

describe('pii', () => {
  it.each([
    ['mail me at jane.doe+x@example.co.uk', 'pii: email'],
    ['call 555-123-4567 now', 'pii: phone'],
    ['call (555) 123-4567', 'pii: phone'],
    ['ring +44 20 7946 0958', 'pii: phone'],
    ['host 192.168.1.20 is up', 'pii: ipv4'],
    ['addr 2001:db8::8a2e:370:7334 ok', 'pii: ipv6'],
    ['loopback ::1', 'pii: ipv6'],
    ['card 4111 1111 1111 1111', 'pii: card number'],
    ['card 4111-1111-1111-1111', 'pii: card number'],
    ['card 4111111111111111', 'pii: card number'],
    ['key AKIAIOSFODNN7EXAMPLE', 'pii: api key (aws)'],
    [`token ghp_${'a'.repeat(36)}`, 'pii: api key (github)'],
    [`OPENAI_API_KEY=sk-${'Ab1'.repeat(10)}`, 'pii: api key (openai-style sk-)'],
    ['xoxb-1234567890-abcdefghij', 'pii: api key (slack)'],
    ['-----BEGIN RSA PRIVATE KEY-----', 'pii: private key'],
    ['-----BEGIN PRIVATE KEY-----', 'pii: private key'],
  ])('finds %j', (text, reason) => {
    expect(findPii(text)).toContain(reason);
  });
  it.each([
    '123 456 789 012, 345',
    '1, 2, 3, 4, 5, 6, 7, 8, 9, 10',
    '4111 1111 1111 1112', // Luhn fails
    '999.999.999.999', // not an IPv4
    'version 1.2.3',
    'std::vector<int> x',
    'ask-me-anything',
    'the time is 12:30:45',
  ])('does not flag %j', (text) => {
    expect(findPii(text)).toEqual([]);
  });
  it('Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('378282246310005')).toBe(true);
  });
});

describe('length and charset', () => {
  it('counts whitespace tokens', () => {
    expect(countTokens('  a b\n\tc  ')).toBe(3);
    expect(countTokens('')).toBe(0);
  });
  it('bounds chars and tokens', () => {
    const rule = lengthRule({ minChars: 2, maxChars: 10, minTokens: 2, maxTokens: 3 });
    expect(rule.check('a', row)).toEqual(['too short', 'too few tokens']);
    expect(rule.check('a b c d e f', row)).toEqual(['too long', 'too many tokens']);
    expect(rule.check('a b', row)).toEqual([]);
  });
  it('flags non-ASCII and control characters, not \\n\\t\\r', () => {
    const rule = charsetRule();
    expect(rule.check('1, 2\n3\t4\r', row)).toEqual([]);
    expect(rule.check('1, ١', row)).toEqual(['non-ASCII characters']);
    expect(rule.check('a\u0007b\u007f', row)).toEqual(['control characters']);
    expect(rule.check('é\u0085', row)).toEqual(['non-ASCII characters', 'control characters']);
    expect(charsetRule({ allowNonAscii: true }).check('é', row)).toEqual([]);
  });
});

describe('dedup (MinHash + LSH)', () => {
  it('exact duplicates', () => {
    const rule = dedupRule({ mode: 'exact' });
    expect(rule.check('1, 2, 3', row)).toEqual([]);
    expect(rule.check('1, 2, 3', row)).toEqual(['exact duplicate']);
    expect(rule.check('1, 2, 3 ', row)).toEqual([]);
  });
  it('near duplicates above the threshold, not below', () => {
    const rule = dedupRule({ mode: 'near', threshold: 0.7 });
    const base = 'the quick brown fox jumps over the lazy dog and keeps running far away';
    expect(rule.check(base, row)).toEqual([]);
    expect(rule.check(base.replace('lazy', 'lazzy'), row)).toEqual(['near duplicate']);
    expect(rule.check('The  QUICK brown fox jumps over the lazy dog and keeps running far away', row)).toEqual(['near duplicate']);
    expect(rule.check('completely different sentence about owls and numbers in sequence', row)).toEqual([]);
  });
  it('is deterministic for a seed, and the estimate tracks true Jaccard', () => {
    const a = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const b = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
    const h1 = new MinHasher(256, 42);
    const h2 = new MinHasher(256, 42);
    const sa = h1.signature(shingleHashes(a, 5));
    expect([...sa]).toEqual([...h2.signature(shingleHashes(a, 5))]);
    const setA = new Set(Array.from({ length: a.length - 4 }, (_, i) => a.slice(i, i + 5)));
    const setB = new Set(Array.from({ length: b.length - 4 }, (_, i) => b.slice(i, i + 5)));
    const inter = [...setA].filter((s) => setB.has(s)).length;
    const jaccard = inter / (setA.size + setB.size - inter);
    const est = estimatedJaccard(sa, h1.signature(shingleHashes(b, 5)));
    expect(Math.abs(est - jaccard)).toBeLessThan(0.1);
  });
});
