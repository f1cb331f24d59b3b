import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type DestinationStream } from 'pino';
import { buildApp } from './app';
import { CallRecorder } from './calls/recorder';
import { joinCluster } from './cluster';
import { LeasedRateLimiter } from './cluster/rate-leases';
import { type Config, type ConfigInput, loadConfig } from './config';
import { consoleBuilt, consoleDirOf, sessionLifetimes } from './console';
import { Dispatcher } from './events/dispatcher';
import { onEnqueued } from './events/outbox';
import { WebhookService } from './events/service';
import { maskSecrets } from './keys/format';
import { loadMasterKey, loadPepper } from './keys/secrets';
import { KeyService } from './keys/service';
import { GithubKeyring, githubKeySource } from './leaks/github-keys';
import { LeakService } from './leaks/service';
import { startMaintenance } from './maintenance';
import { createMetrics } from './metrics';
import { openStore, type Store } from './store/database';
import { BruteForceGuard } from './verify/brute-force';
import { Verifier } from './verify/pipeline';
import { WorkspaceService } from './workspaces/service';

export { type Config, type ConfigInput, loadConfig } from './config';

/** A running keyward server. */
export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  config: Config;
  /** The bootstrap root key, on the first start of an empty store only. */
  bootstrapRootKey: string | null;
  /** Where the bootstrap root key was written, when it was. */
  bootstrapRootKeyFile: string | null;
  /** The web console's address, or null when this install has no built console. */
  consoleUrl: string | null;
  /** Runs one round of maintenance now (expiry, retention, pruning). */
  maintain(): Promise<void>;
  /** Runs one round of webhook delivery now; resolves with how many attempts it made. */
  dispatch(): Promise<number>;
  /** Writes buffered call-log rows and last-use times now. */
  flush(): Promise<void>;
  /**
   * Leaves a cluster gracefully (SIGTERM): /readyz answers 503 at once, the listener stops taking
   * connections, requests in flight finish (for at most KEYWARD_DRAIN_TIMEOUT_MS), buffered call-log
   * rows and last-use times are written, and the store is closed.
   */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps two processes from opening one PGlite data dir at once, which would corrupt it. A lock
 * left by a killed process (its pid is gone) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockFile = join(dataDir, 'keyward.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `the data dir ${dataDir} is in use by process ${holder}; stop it or choose another KEYWARD_DATA_DIR`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock the data dir ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Opens the store, bootstraps an empty one, and starts listening. */
export async function startServer(
  overrides: Partial<ConfigInput> = {},
  options: {
    env?: NodeJS.ProcessEnv;
    logDestination?: DestinationStream;
    /**
     * The clock of time-driven work, in ms since the epoch: maintenance (expiry, reminders, pruning),
     * webhook delivery and the verify cache's TTL. Date.now (performance.now for the cache) unless
     * given; tests move it forward instead of sleeping.
     */
    clock?: () => number;
  } = {},
): Promise<RunningServer> {
  const config = loadConfig(options.env ?? process.env, overrides);
  const clock = options.clock ?? Date.now;
  const logger = pino(
    {
      level: config.logLevel,
      // Keys travel in these places; they never reach a log line.
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.body.key', 'key', 'rootKey', 'secret'],
        censor: '[redacted]',
      },
      // Anything key-shaped in a message or an error (a key echoed in a validation message, say) is masked.
      hooks: {
        logMethod(args, method) {
          for (let index = 0; index < args.length; index += 1)
            if (typeof args[index] === 'string') args[index] = maskSecrets(args[index] as string);
          method.apply(this, args);
        },
      },
      // A key pasted into a path or query string (a mistake, but it happens) is masked too.
      serializers: {
        err: (error: Error) => {
          const serialized = pino.stdSerializers.err(error);
          return { ...serialized, message: maskSecrets(serialized.message), stack: maskSecrets(serialized.stack) };
        },
        req: (request: {
          method?: string;
          url?: string;
          hostname?: string;
          ip?: string;
          socket?: { remotePort?: number };
        }) => ({
          method: request.method,
          url: maskSecrets(request.url ?? ''),
          host: request.hostname,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
    },
    options.logDestination ?? pino.destination(1),
  );
  const unlock = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  let store: Store | undefined;
  let dispatcher: Dispatcher | undefined;
  let stopCountingEvents: () => void = () => undefined;
  try {
    const pepper = loadPepper(config.pepper, config.dataDir);
    const masterKey = loadMasterKey(config.masterKey, config.dataDir);
    store = await openStore(
      config.databaseUrl
        ? { databaseUrl: config.databaseUrl }
        : { dataDir: config.dataDir, sharedBuffers: config.pgliteSharedBuffers },
    );
    const db = store.db;
    const verifier = new Verifier(db, pepper, masterKey, {
      cacheTtlMs: config.verifyCacheTtlMs,
      cacheMaxEntries: config.verifyCacheMaxKeys,
      ...(options.clock ? { cacheClock: options.clock } : {}),
      // Replicas on one Postgres share each key's rate limit; the embedded store is one process.
      ...(config.databaseUrl ? { clusterLimiter: new LeasedRateLimiter(db) } : {}),
    });
    const recorder = new CallRecorder(db, {
      flushIntervalMs: config.callFlushIntervalMs,
      onError: (error) => logger.error({ err: error }, 'writing the call log failed'),
    });
    const keys = new KeyService({ db, pepper, masterKey, verifier, recorder });

    const workspaces = new WorkspaceService({ db, pepper, keys });
    const addressPolicy = { allowPrivate: config.webhookAllowPrivate, allowHttp: config.webhookAllowHttp };
    const webhooks = new WebhookService({ db, masterKey, policy: addressPolicy });
    const keyring = new GithubKeyring({
      source: githubKeySource(config),
      ttlMs: config.githubScanningKeysTtlMs,
      refetchMs: config.githubScanningKeysRefetchMs,
      clock: options.clock ?? Date.now,
      onError: (error) => logger.warn({ err: error }, "loading GitHub's secret-scanning keys failed"),
    });
    const leaks = new LeakService({ db, pepper, keys, keyring });
    const bootstrap = await workspaces.bootstrap();
    let bootstrapRootKeyFile: string | null = null;
    if (bootstrap) {
      bootstrapRootKeyFile = config.rootKeyFile ?? join(config.dataDir, 'root-key');
      mkdirSync(dirname(bootstrapRootKeyFile), { recursive: true, mode: 0o700 });
      if (existsSync(bootstrapRootKeyFile)) rmSync(bootstrapRootKeyFile);
      writeFileSync(bootstrapRootKeyFile, `${bootstrap.secret}\n`, { mode: 0o600 });
    }

    // The oldest-pending gauge reads the store through the dispatcher, made below.
    const metrics = createMetrics({
      oldestPendingSeconds: () => dispatcher?.oldestPendingSeconds() ?? Promise.resolve(0),
      ...(store.busySeconds ? { storeBusySeconds: store.busySeconds } : {}),
      verifyStoreReads: () => verifier.storeReads,
      verifyCachedKeys: () => verifier.cachedKeys,
    });
    stopCountingEvents = onEnqueued((type) => metrics.eventsEnqueued.inc({ type }));
    const bruteForce = new BruteForceGuard(config);
    // One Postgres shared by replicas: changes are announced through it, and one replica leads.
    const membership = await joinCluster({ config, db, verifier, bruteForce, metrics, logger });
    const maintenance = startMaintenance({
      db,
      verifier,
      leadership: membership.leadership,
      onLeadership: (leading) => metrics.leader.set(leading ? 1 : 0),
      sweepers: [bruteForce],
      clock,
      intervalMs: config.maintenanceIntervalMs,
      callRetentionDays: config.callRetentionDays,
      eventRetentionDays: config.eventRetentionDays,
      consoleSessions: sessionLifetimes(config),
      onRotationDue: (counts) => {
        metrics.rotationDue.reset();
        for (const { workspaceId, kind, due } of counts) {
          metrics.rotationDue.set({ workspace: workspaceId, kind }, due);
          logger.warn(
            { workspace: workspaceId, kind, due },
            `${due} ${kind === 'root' ? 'root ' : ''}keys are past their maxAgeDays and due for rotation; list them with \`keyward keys due\``,
          );
        }
      },
      onError: (error) => logger.error({ err: error }, 'maintenance failed'),
    });
    // Every replica delivers: claims skip rows another replica holds (server/events/repository.ts).
    dispatcher = new Dispatcher({
      db,
      webhooks,
      policy: addressPolicy,
      clock,
      intervalMs: config.webhookDispatchIntervalMs,
      timeoutMs: config.webhookTimeoutMs,
      onError: (error) => logger.error({ err: error }, 'delivering webhooks failed'),
      onAttempt: (result) => metrics.webhookDeliveries.inc({ result }),
    });
    const readiness = { draining: false };
    const app = await buildApp({
      config,
      db,
      keys,
      workspaces,
      webhooks,
      leaks,
      verifier,
      recorder,
      metrics,
      logger,
      bruteForce,
      readiness,
      clock: options.clock ?? Date.now,
    });
    await app.listen({ port: config.port, host: config.host });
    void maintenance.run();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const openedStore = store;
    const running = dispatcher;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await maintenance.stop();
      await running.stop();
      stopCountingEvents();
      // Requests in flight finish first, with the cache still kept current; then the buffers are written.
      await app.close();
      await recorder.close();
      await membership.close();
      await openedStore.close();
      unlock();
    };
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    return {
      url,
      app,
      store: openedStore,
      config,
      bootstrapRootKey: bootstrap?.secret ?? null,
      bootstrapRootKeyFile,
      consoleUrl: consoleBuilt(consoleDirOf(config)) ? `${url}/console` : null,
      maintain: () => maintenance.run(),
      dispatch: () => running.run(),
      flush: () => recorder.flush(),
      async drain() {
        readiness.draining = true;
        // Requests in flight get the drain timeout to finish; then their connections are cut.
        const cut = setTimeout(() => app.server.closeAllConnections(), config.drainTimeoutMs);
        cut.unref();
        try {
          await close();
        } finally {
          clearTimeout(cut);
        }
      },
      close,
    };
  } catch (error) {
    await dispatcher?.stop();
    stopCountingEvents();
    await store?.close().catch(() => undefined);
    unlock();
    throw error;
  }
}
