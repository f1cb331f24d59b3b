import { Counter, type CounterConfiguration, collectDefaultMetrics, Gauge, Histogram, type LabelValues, Registry } from 'prom-client';

/** Counts for one label set, kept as a plain number until the metrics are read. */
export interface Tally {
  count: number;
}

/**
 * A prom-client counter that also takes tallies: on the verify hot path, counting is an addition
 * to a plain number instead of prom-client's label validation and hashing per request. The
 * tallies are folded into the counter by prom-client's collect hook, whenever it is read.
 */
function talliedCounter<T extends string>(configuration: CounterConfiguration<T>) {
  const tallies: { labels: LabelValues<T>; tally: Tally }[] = [];
  const counter = new Counter<T>({
    ...configuration,
    collect() {
      for (const { labels, tally } of tallies) {
        if (tally.count === 0) continue;
        this.inc(labels, tally.count);
        tally.count = 0;
      }
    },
  });
  return Object.assign(counter, {
    /**
     * Tallies that differ in one label: the returned function gives the tally for a value of
     * `label` (made on first use), with `fixed` for the other labels. `tallyOf(value).count += 1` counts one.
     */
    tallyBy(label: T, fixed: LabelValues<T> = {}): (value: string) => Tally {
      const byValue = new Map<string, Tally>();
      return (value) => {
        let tally = byValue.get(value);
        if (!tally) {
          tally = { count: 0 };
          byValue.set(value, tally);
          tallies.push({ labels: { ...fixed, [label]: value }, tally });
        }
        return tally;
      };
    },
  });
}

/** The service's Prometheus metrics. Labels carry routes and codes, never keys or ids. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keyward_' });
  return {
    registry,
    httpRequests: talliedCounter({
      name: 'keyward_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'keyward_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    rotationDue: new Gauge({
      name: 'keyward_keys_rotation_due',
      help: 'Active or suspended keys older than their maxAgeDays, by workspace and kind',
      labelNames: ['workspace', 'kind'] as const,
      registers: [registry],
    }),
    verifications: talliedCounter({
      name: 'keyward_verifications_total',
      help: 'Verifications by result code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
