import { GroupCommit } from '../../server/store/group-commit';

/* Requests that arrive while a write commits share the next one; a failing batch is retried item by item. */
describe('GroupCommit', () => {
  it('writes a lone request at once, and groups requests that arrive while a write is under way', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const group = new GroupCommit<number, number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return items.map((item) => item * 10);
      },
      { maxBatch: 3 },
    );
    const first = group.submit(1);
    const waiting = [2, 3, 4, 5, 6].map((item) => group.submit(item));
    release();
    expect(await first).toBe(10);
    expect(await Promise.all(waiting)).toEqual([20, 30, 40, 50, 60]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('runs each item alone when its batch fails, so only the bad item fails', async () => {
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const group = new GroupCommit<string, string>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
        if (items.includes('bad')) throw new Error('bad item');
        return items.map((item) => item.toUpperCase());
      },
      { maxBatch: 10 },
    );
    const first = group.submit('a');
    const rest = ['b', 'bad', 'c'].map((item) => group.submit(item).catch((error: Error) => error.message));
    release();
    expect(await first).toBe('A');
    expect(await Promise.all(rest)).toEqual(['B', 'bad item', 'C']);
    expect(batches).toEqual([['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  });
});
