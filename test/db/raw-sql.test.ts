import { DateUtils } from 'typeorm/util/DateUtils';
import { chunks, storedDatetime } from '../../src/db/raw-sql';

describe('raw SQL helpers', () => {
  it('store dates as the same text as TypeORM does', () => {
    const dates = [
      new Date(0),
      new Date('2024-01-20T10:15:00.000Z'),
      new Date('1999-12-31T23:59:59.999Z'),
      new Date('2100-02-03T04:05:06.007Z'),
    ];
    for (let i = 0; i < 1_000; i += 1) dates.push(new Date(Math.floor(Math.random() * 4_102_444_800_000)));
    for (const date of dates) expect(storedDatetime(date)).toBe(DateUtils.mixedDateToUtcDatetimeString(date));
  });

  it('slice lists for statements', () => {
    expect([...chunks([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
    expect([...chunks([], 2)]).toEqual([]);
  });
});
