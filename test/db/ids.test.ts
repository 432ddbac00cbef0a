import { newId, randomAlphanumeric } from '../../src/ids';

describe('ids', () => {
  it('are the prefix and 24 alphanumerics, all different', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('dlv'));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^dlv_[0-9A-Za-z]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort by creation time (as SQLite compares text), whatever the random part', () => {
    const times = [0, 61, 62, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 62 ** 8 - 1];
    const ids = times.map((ms) => newId('evt', ms));
    expect([...ids].reverse().sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(ids);
  });

  it('draw their random characters uniformly', () => {
    const counts = new Map<string, number>();
    for (const char of randomAlphanumeric(62_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(Math.abs(count - 1_000)).toBeLessThan(200);
  });
});
