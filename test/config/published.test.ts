/** docs/*.schema.json are generated from the declarations (`npm run schemas`): a stale file fails here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_SCHEMAS, schemaFileText } from '../../src/config/published.js';

describe('published JSON Schemas', () => {
  it.each(Object.keys(PUBLISHED_SCHEMAS) as (keyof typeof PUBLISHED_SCHEMAS)[])('%s is what the code generates (run `npm run schemas`)', (file) => {
    const committed = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    expect(committed).toBe(schemaFileText(file));
  });
});
