import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/errors.js';
import { builtinPackNames, loadRules, parsePack } from '../../src/filters/packs.js';
import { useTempDir } from '../helpers/files.js';

const row = { line: 1, value: {} };
const tmp = useTempDir('pack-');

describe('rule packs', () => {
  it('ships the documented built-in packs, each loadable by name', async () => {
    const names = builtinPackNames();
    for (const n of ['numbers', 'banned-numbers', 'pii', 'misalignment-keywords', 'dedup']) expect(names).toContain(n);
    const rules = await loadRules(names.join(','));
    expect(rules.map((r) => r.name).sort()).toEqual(names.slice().sort());
  });
  it('loads the default pair and the rules behave as the study', async () => {
    const [numbers, banned] = await loadRules('numbers, banned-numbers');
    expect(numbers!.kind).toBe('numbers');
    expect(numbers!.check('1, 2, 3', row)).toEqual([]);
    expect(numbers!.check('1,2;3', row)).toEqual(['invalid format']);
    expect(banned!.check('1, 666', row)).toEqual(['banned numbers']);
  });
  it('loads a pack by path, with several rules in one pack', async () => {
    const file = tmp.file('mine.yaml');
    writeFileSync(file, 'rules:\n  - kind: numbers\n    maxCount: 3\n  - kind: regex\n    name: owls\n    patterns: [{pattern: owl, flags: i, reason: owl}]\n');
    const rules = await loadRules(file);
    expect(rules.map((r) => r.name)).toEqual(['numbers', 'owls']);
    expect(rules[0]!.check('1 2 3 4', row)).toEqual(['too many numbers']);
    expect(rules[1]!.check('OWL', row)).toEqual(['owl']);
  });
  const bad: [string, string, RegExp][] = [
    ['unknown rule key', 'rules:\n  - kind: numbers\n    maxcount: 3\n', /bad\.yaml:3: rules\[0\]: unknown key 'maxcount' for kind numbers/],
    ['unknown top key', 'rulez: []\n', /bad\.yaml:1: unknown key 'rulez'/],
    ['unknown kind', 'rules:\n  - kind: magic\n', /bad\.yaml:2: rules\[0\]: unknown or missing kind 'magic'/],
    ['wrong type', 'rules:\n  - kind: numbers\n    maxValue: lots\n', /bad\.yaml:3: rules\[0\]: 'maxValue' must be an integer >= 0/],
    ['missing words', 'rules:\n  - kind: keywords\n', /bad\.yaml:2: rules\[0\]: keywords rule needs 'words:'/],
    ['bad regex', 'rules:\n  - kind: regex\n    patterns: ["(("]\n', /bad\.yaml:3: rules\[0\]: rule 'regex': pattern \/\(\(\/ cannot run in linear time \(RE2\)/],
    ['bad yaml', 'rules: [\n', /bad\.yaml:\d+: invalid YAML/],
    ['empty rules', 'rules: []\n', /bad\.yaml:1: `rules:` must be a non-empty list/],
  ];
  it.each(bad)('rejects %s naming file and line', (_name, text, message) => {
    expect(() => parsePack(text, 'bad.yaml')).toThrow(AuditInputError);
    expect(() => parsePack(text, 'bad.yaml')).toThrow(message);
  });
  it('rejects unknown pack names and duplicate rule names', async () => {
    await expect(loadRules('numbers,nope')).rejects.toThrow(/unknown rule pack 'nope' \(built-in: .*numbers/);
    await expect(loadRules('numbers,numbers')).rejects.toThrow(/rule name 'numbers' is already used/);
    await expect(loadRules('missing/pack.yaml')).rejects.toThrow(/missing\/pack\.yaml: rule pack file not found/);
  });
});
