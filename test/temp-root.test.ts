/** The suite's temp folder (test/global-setup.ts): everything a test makes in os.tmpdir() lands under one removable root. */
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('temp folders', () => {
  it('os.tmpdir() in a test worker is the run\'s own folder', () => {
    expect(basename(tmpdir())).toMatch(/^audit-dataset-tests-/);
  });

});
