import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The service's Prometheus metrics. Labels carry routes and codes, never keys or ids. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keyward_' });
  return {
    registry,
    httpRequests: new Counter({
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
    verifications: new Counter({
      name: 'keyward_verifications_total',
      help: 'Verifications by result code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
