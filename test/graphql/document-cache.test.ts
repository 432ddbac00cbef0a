import { parse } from 'graphql';
import { DocumentCache } from '../../src/graphql/document-cache';

describe('DocumentCache', () => {
  const a = '{ a }';
  const b = '{ bb }';
  const c = '{ ccc }';

  it('hands back the same document for the same text', () => {
    const cache = new DocumentCache(100);
    const document = parse(a);
    cache.set(a, document);
    expect(cache.get(a)).toBe(document);
    expect(cache.get('{a}')).toBeUndefined();
  });

  it('drops the least recently used texts beyond its character bound', () => {
    const cache = new DocumentCache(a.length + b.length + 1);
    cache.set(a, parse(a));
    cache.set(b, parse(b));
    cache.get(a);
    cache.set(c, parse(c));
    expect(cache.get(b)).toBeUndefined();
    expect(cache.get(a)).toBeDefined();
    expect(cache.get(c)).toBeDefined();
  });

  it('keeps nothing longer than the bound', () => {
    const cache = new DocumentCache(3);
    cache.set(a, parse(a));
    expect(cache.get(a)).toBeUndefined();
  });
});
