import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Server settings for suites that deliver to a local receiver: it listens on loopback over plain
 * http, and each test drives delivery with dispatch(), so the loop itself never runs.
 */
export const LOCAL_RECEIVER_SETTINGS = {
  webhookAllowPrivate: true,
  webhookAllowHttp: true,
  webhookDispatchIntervalMs: 600_000,
} as const;

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP webhook receiver on 127.0.0.1: records every request, answers as `answer` says. */
export interface Receiver {
  url: string;
  received: Received[];
  /** What the next requests are answered with, in order; after the list, `fallback`. */
  answers: { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }[];
  fallback: { status: number; body?: string };
  close(): Promise<void>;
}

/** Starts a receiver on a loopback port. */
export async function startReceiver(): Promise<Receiver> {
  const state: Pick<Receiver, 'received' | 'answers' | 'fallback'> = {
    received: [],
    answers: [],
    fallback: { status: 200, body: 'ok' },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.received.push({
        path: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer: Receiver['answers'][number] = state.answers.shift() ?? state.fallback;
      const send = () => {
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
