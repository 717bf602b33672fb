/** `npm run schemas`: regenerates docs/*.schema.json from their declarations (src/config/published.ts). */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PUBLISHED_SCHEMAS, schemaFileText } from '../src/config/published.js';

for (const file of Object.keys(PUBLISHED_SCHEMAS) as (keyof typeof PUBLISHED_SCHEMAS)[]) {
  await writeFile(fileURLToPath(new URL(`../${file}`, import.meta.url)), schemaFileText(file));
  process.stdout.write(`wrote ${file}\n`);
}
