import type { Metrics } from '../../metrics';

/*
 * The HTTP request metrics: a count per method, route and status, and a duration histogram per
 * method and route. Fastify's onResponse hook and the verify lane both record through
 * requestMetrics(), so an answer is counted alike whichever of them gave it. Counting is an
 * addition to a tally (server/metrics.ts), as the lane records on every verification.
 */

/** Records one route's answers. */
export interface RouteMetrics {
  /** Counts one answer with its status, and observes how long it took. */
  record(status: number, seconds: number): void;
}

/** Makes the recorder lookup: the recorder for a method and route, made on first use. */
export function requestMetrics(metrics: Metrics): (method: string, route: string) => RouteMetrics {
  const routes = new Map<string, RouteMetrics>();
  return (method, route) => {
    const name = `${method} ${route}`;
    let recorder = routes.get(name);
    if (!recorder) {
      const tallyOf = metrics.httpRequests.tallyBy('status', { method, route });
      const duration = metrics.httpDuration.labels({ method, route });
      recorder = {
        record(status, seconds) {
          tallyOf(String(status)).count += 1;
          duration.observe(seconds);
        },
      };
      routes.set(name, recorder);
    }
    return recorder;
  };
}
