import { readFile } from 'node:fs';
import { EndOfTurn } from '../../server/verify/fast/end-of-turn';

/* The verify lane answers the requests whose bodies end in one turn of the event loop together. */
describe('end of turn', () => {
  /** Resolves in the check phase, after what EndOfTurn queued before it. */
  const nextCheckPhase = () => new Promise((resolve) => setImmediate(resolve));

  it('runs what one turn hands in after it, together and in order', async () => {
    const seen: string[] = [];
    const turn = new EndOfTurn<string>((item) => seen.push(item));
    turn.add('a');
    turn.add('b');
    turn.add('c');
    expect(seen).toEqual([]);
    await nextCheckPhase();
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('leaves what is handed in while it runs for the next turn', async () => {
    const seen: string[] = [];
    const turn: EndOfTurn<string> = new EndOfTurn<string>((item) => {
      seen.push(item);
      if (item === 'a') turn.add('late');
    });
    turn.add('a');
    turn.add('b');
    await nextCheckPhase();
    expect(seen).toEqual(['a', 'b']);
    await nextCheckPhase();
    expect(seen).toEqual(['a', 'b', 'late']);
  });

  it('makes an item handed in by an I/O callback wait for no timer', async () => {
    const order: string[] = [];
    const turn = new EndOfTurn<string>((item) => order.push(item));
    await new Promise<void>((resolve, reject) =>
      readFile(__filename, (error) => {
        if (error) return reject(error);
        setTimeout(() => {
          order.push('timer');
          resolve();
        }, 0);
        turn.add('answer');
      }),
    );
    expect(order).toEqual(['answer', 'timer']);
  });
});
