import { describe, expect, it } from 'vitest';
import { wellFormednessErrors } from './wellformed.js';

// The checker is itself test code: make sure it actually rejects broken documents.
describe('wellFormednessErrors', () => {
  it('accepts a well-formed document', () => {
    expect(wellFormednessErrors('<?xml version="1.0"?><a x="1"><b/><c>t &amp; u</c></a>', 'xml')).toEqual([]);
    expect(wellFormednessErrors('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>', 'html')).toEqual([]);
  });
  it('rejects unclosed, misnested, stray and bare-ampersand documents', () => {
    expect(wellFormednessErrors('<a><b></a>', 'xml')).not.toEqual([]);
    expect(wellFormednessErrors('<a><b></b>', 'xml')).not.toEqual([]);
    expect(wellFormednessErrors('<a>1 < 2</a>', 'xml')).not.toEqual([]);
    expect(wellFormednessErrors('<a>R&D</a>', 'xml')).not.toEqual([]);
    expect(wellFormednessErrors('<a x=1></a>', 'xml')).not.toEqual([]);
    expect(wellFormednessErrors('<a></a><b></b>', 'xml')).not.toEqual([]);
    expect(wellFormednessErrors('<meta charset="utf-8">', 'xml')).not.toEqual([]);
  });
});
