import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type LabelValues,
  type MetricObjectWithValues,
  type MetricValueWithName,
  Registry,
} from 'prom-client';

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

/** Observations of one label set: counts per bucket (not cumulative), their sum and count. */
interface HistogramSeries {
  labels: Record<string, string>;
  buckets: Float64Array;
  sum: number;
  count: number;
  observer: { observe(value: number): void };
}

/**
 * A histogram read through prom-client's registry, whose observe() is a bucket search and three
 * additions: prom-client's own validates and hashes the labels on every call, which on the verify
 * hot path cost as much as the pipeline's IP and scope checks together. It implements the
 * registry's metric interface (name, help, type, get, reset) and writes the same exposition
 * prom-client's Histogram does: cumulative `_bucket{le}` series, then `_sum` and `_count`.
 */
class TalliedHistogram<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #labelNames: readonly T[];
  readonly #upperBounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  constructor(configuration: {
    name: string;
    help: string;
    labelNames: readonly T[];
    buckets: readonly number[];
    registers: Registry[];
  }) {
    this.name = configuration.name;
    this.help = configuration.help;
    this.#labelNames = configuration.labelNames;
    this.#upperBounds = [...configuration.buckets].sort((a, b) => a - b);
    for (const registry of configuration.registers) registry.registerMetric(this as never);
  }

  /** The series for one label set, to observe into: `histogram.labels(labels).observe(seconds)`. */
  labels(labels: Record<T, string>): { observe(value: number): void } {
    const name = this.#labelNames.map((label) => labels[label]).join('\u0000');
    let series = this.#series.get(name);
    if (!series) {
      const bounds = this.#upperBounds;
      const buckets = new Float64Array(bounds.length + 1);
      const made: HistogramSeries = {
        labels: { ...labels },
        buckets,
        sum: 0,
        count: 0,
        // Made once per label set: observing through labels() makes no new observer per call.
        observer: {
          observe(value: number): void {
            if (!Number.isFinite(value)) return;
            let bucket = 0;
            while (bucket < bounds.length && value > bounds[bucket]!) bucket += 1;
            buckets[bucket]! += 1;
            made.sum += value;
            made.count += 1;
          },
        },
      };
      series = made;
      this.#series.set(name, series);
    }
    return series.observer;
  }

  /** Observes one value for a label set. */
  observe(labels: Record<T, string>, value: number): void {
    this.labels(labels).observe(value);
  }

  /** What the registry writes out. */
  get(): Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect' | 'type'> & { type: 'histogram' } {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (const [index, bound] of [...this.#upperBounds, Infinity].entries()) {
        cumulative += series.buckets[index]!;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: bound === Infinity ? '+Inf' : bound, ...series.labels },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Drops every observation. */
  reset(): void {
    this.#series.clear();
  }
}

/** Where gauges read from the store get their value, once the parts that know it exist. */
export interface MetricSources {
  /** Seconds the oldest delivery still waiting has waited (0 when none waits). */
  oldestPendingSeconds?: () => Promise<number>;
  /** Seconds the embedded store's thread has spent working since it started (PGlite only). */
  storeBusySeconds?: () => number;
  /** Keys the verifier has read from the store because its cache did not hold them. */
  verifyStoreReads?: () => number;
  /** Entries the verify cache holds now: keys known and unknown, by key and by id. */
  verifyCachedKeys?: () => number;
}

/**
 * The service's Prometheus metrics. Labels carry routes, codes, event types and results: never
 * keys, ids or webhook URLs.
 */
export function createMetrics(sources: MetricSources = {}) {
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
    httpDuration: new TalliedHistogram({
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
    leader: new Gauge({
      name: 'keyward_cluster_leader',
      help: '1 while this replica runs the store-wide maintenance, else 0',
      registers: [registry],
    }),
    cacheResets: new Counter({
      name: 'keyward_verify_cache_resets_total',
      help: 'Whole verify-cache drops because the key-change listener lost its connection',
      registers: [registry],
    }),
    eventsEnqueued: new Counter({
      name: 'keyward_events_enqueued_total',
      help: 'Events written to the outbox, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'keyward_webhook_deliveries_total',
      help: 'Delivery attempts by this replica: succeeded (2xx), retried (failed, tried again later) or failed (for good)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    storeBusy: new Gauge({
      name: 'keyward_store_thread_busy_seconds_total',
      help: "Time the embedded store's thread has spent working (PGlite only): its cost per verification in bench/verify",
      registers: [registry],
      collect() {
        if (sources.storeBusySeconds) this.set(sources.storeBusySeconds());
      },
    }),
    verifyStoreReads: new Gauge({
      name: 'keyward_verify_store_reads_total',
      help: 'Keys read from the store because the verify cache did not hold them; concurrent misses of one key share a read',
      registers: [registry],
      collect() {
        if (sources.verifyStoreReads) this.set(sources.verifyStoreReads());
      },
    }),
    verifyCachedKeys: new Gauge({
      name: 'keyward_verify_cache_keys',
      help: 'Entries the verify cache holds (keys known and unknown, by key and by id): its memory grows with them (docs/operations.md, Sizing)',
      registers: [registry],
      collect() {
        if (sources.verifyCachedKeys) this.set(sources.verifyCachedKeys());
      },
    }),
    webhookOldestPending: new Gauge({
      name: 'keyward_webhook_oldest_pending_seconds',
      help: 'Age of the oldest delivery still waiting for an enabled endpoint (the same on every replica)',
      registers: [registry],
      // Read from the store when scraped; a failed read keeps the last value rather than failing the scrape.
      async collect() {
        if (!sources.oldestPendingSeconds) return;
        try {
          this.set(await sources.oldestPendingSeconds());
        } catch {
          // the store is closing or unreachable: the scrape still answers
        }
      },
    }),
    keyChangesHeard: new Counter({
      name: 'keyward_key_changes_heard_total',
      help: 'Key changes announced by any replica and heard by this one',
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
