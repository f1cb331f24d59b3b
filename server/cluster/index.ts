import type { FastifyBaseLogger } from 'fastify';
import { reportSecurityBlock } from '../audit/log';
import type { Config } from '../config';
import type { Metrics } from '../metrics';
import type { Db } from '../store/database';
import type { BruteForceGuard } from '../verify/brute-force';
import type { Verifier } from '../verify/pipeline';
import { ClusterListener } from './invalidation';
import { advisoryLeadership, type Leadership, soleLeader } from './leader';
import { type ClusterBlock, parseBlock, SharedFailureCounter } from './shared-failures';

/** A replica's membership of its cluster: who leads maintenance, and how to leave. */
export interface Membership {
  leadership: Leadership;
  /** Writes counted failures, stops listening and gives up the leadership. */
  close(): Promise<void>;
}

/**
 * Makes this replica one of a cluster on its Postgres (docs/operations.md): it hears every key
 * change and blocked source, shares its brute-force counts, and competes for the maintenance
 * leadership. On the embedded store there is no cluster: the process is its own leader.
 */
export async function joinCluster(deps: {
  config: Config;
  db: Db;
  verifier: Verifier;
  bruteForce: BruteForceGuard;
  metrics: Metrics;
  logger: FastifyBaseLogger;
}): Promise<Membership> {
  const { config, db, verifier, bruteForce, metrics, logger } = deps;
  if (!config.databaseUrl) return { leadership: soleLeader, close: async () => undefined };
  const warn = (what: string) => (error: unknown) => logger.warn({ err: error }, what);

  const failures = new SharedFailureCounter(db, config, {
    onError: warn('counting failures across the cluster failed'),
    onBlocked: (block) => auditClusterBlock(db, bruteForce, logger, block, warn('auditing a cluster block failed')),
  });
  bruteForce.reportTo(failures);
  const listener = new ClusterListener(config.listenDatabaseUrl ?? config.databaseUrl, {
    forget: (secretHash) => {
      metrics.keyChangesHeard.inc();
      verifier.forget(secretHash);
    },
    forgetAll: () => {
      metrics.cacheResets.inc();
      verifier.forgetAll();
    },
    blocked: (payload) => {
      const block = parseBlock(payload);
      if (block) bruteForce.blockFromCluster(block.kind, block.source, block.until);
    },
    onError: warn('the key-change listener lost its connection; the verify cache was dropped'),
  });
  await listener.ready();
  const leadership = advisoryLeadership(config.databaseUrl, warn('the maintenance leader lost its connection'));
  return {
    leadership,
    async close() {
      await failures.close();
      await listener.close();
      await leadership.release();
    },
  };
}

/**
 * Logs and audits a block that the cluster's count decided, on the replica that announced it,
 * unless this replica had already blocked the source on its own count (and reported it then).
 * Its own count, not its block list: the announcement reaches this replica's listener too, maybe
 * before this runs, and a block heard that way was not reported. The store drops a second report
 * of a block still in force anyway (reportSecurityBlock).
 */
function auditClusterBlock(
  db: Db,
  bruteForce: BruteForceGuard,
  logger: FastifyBaseLogger,
  block: ClusterBlock,
  onError: (error: unknown) => void,
): void {
  if (bruteForce.overOwnLimit(block.kind, block.source, Date.now())) return;
  const until = new Date(block.until).toISOString();
  logger.warn(
    { kind: block.kind, source: block.source, until },
    'too many failures across the cluster: source blocked on every replica',
  );
  const origin = { ip: block.kind === 'prefix' ? null : block.source, userAgent: null, requestId: null };
  void reportSecurityBlock(db, null, origin, {
    action: block.kind === 'root' ? 'security.root_key_lockout' : 'security.verify_throttled',
    ip: block.kind === 'prefix' ? null : block.source,
    keyPrefix: block.kind === 'prefix' ? block.source : null,
    blockedUntil: new Date(block.until),
    changes: { reason: block.kind, cluster: true, source: block.source, until },
  }).catch(onError);
}
