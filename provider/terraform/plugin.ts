import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as sea from 'node:sea';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { localhostCertificate } from './certificate';
import { loadProviderSchema, metadataHandlers } from './metadata';
import type { TerraformProviderSchemaDocument } from './schema';

/*
 * terraform-provider-keyward: a go-plugin server, as Terraform and OpenTofu launch providers.
 * It checks the magic cookie, agrees on protocol 6, serves tfplugin6.Provider, grpc.health.v1 and
 * plugin.GRPCController on loopback over mutual TLS (the host's certificate arrives in
 * PLUGIN_CLIENT_CERT; ours goes back on the handshake line), and prints the one handshake line.
 */

/** One RPC's handler: the request as proto-loader decoded it, the response to encode. */
// biome-ignore lint/suspicious/noExplicitAny: requests are protobuf messages decoded by proto-loader, typed per RPC by the handler
export type Handler = (request: any) => Promise<Record<string, unknown>>;

/** The cookie Terraform and OpenTofu set so a provider knows it was started by them. */
const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const CORE_PROTOCOL_VERSION = 1;
const APP_PROTOCOL_VERSION = 6;

/** The checkout or installed package: the nearest dir up with a package.json. */
function packageRoot(from: string): string {
  return existsSync(join(from, 'package.json')) ? from : packageRoot(dirname(from));
}

/** How proto-loader turns the .proto files into gRPC definitions; the release build parses with keepCase too. */
export const PROTO_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

/** The .proto files the provider serves, in this order. */
export const PROTO_FILES = ['tfplugin6.proto', 'health.proto', 'controller.proto'];

/** SEA asset names: the release build embeds these, as a single executable has no package dir to read. */
export const SEA_ASSETS = { protocol: 'protocol.json', schema: 'schema.json' } as const;

/** What a plugin serves: its schema document, and the handlers of its other RPCs, loaded on first use. */
export interface ServedProvider {
  schema: TerraformProviderSchemaDocument;
  loadService(environment: NodeJS.ProcessEnv): Promise<Record<string, Handler>>;
}

/** The gRPC definitions and the schema document: from the SEA's assets, or from the package's files. */
function providerAssets(): { definitions: protoLoader.PackageDefinition; schema: TerraformProviderSchemaDocument } {
  // isSea arrived in Node 20.12; an older Node is never a single executable of ours.
  if (sea.isSea?.()) {
    return {
      definitions: protoLoader.fromJSON(
        JSON.parse(sea.getAsset(SEA_ASSETS.protocol, 'utf8')) as Parameters<typeof protoLoader.fromJSON>[0],
        PROTO_OPTIONS,
      ),
      schema: JSON.parse(sea.getAsset(SEA_ASSETS.schema, 'utf8')) as TerraformProviderSchemaDocument,
    };
  }
  const root = packageRoot(__dirname);
  return {
    definitions: protoLoader.loadSync(PROTO_FILES, {
      includeDirs: [join(root, 'provider', 'terraform', 'protocol')],
      ...PROTO_OPTIONS,
    }),
    schema: loadProviderSchema(root),
  };
}

/**
 * Starts the provider server and prints the handshake; resolves once it serves. It serves keyward's
 * provider unless told otherwise (bench/terraform serves a provider that does nothing through it).
 */
export async function servePlugin(
  environment: NodeJS.ProcessEnv = process.env,
  served?: ServedProvider,
): Promise<grpc.Server> {
  if (environment[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write(
      'terraform-provider-keyward is a Terraform/OpenTofu provider plugin: the engine starts it. Install it with `keyward terraform install`.\n',
    );
    process.exit(1);
  }
  const offered = (environment.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION))
    .split(',')
    .map((version) => Number(version.trim()));
  if (!offered.includes(APP_PROTOCOL_VERSION)) {
    process.stderr.write(
      `terraform-provider-keyward speaks plugin protocol ${APP_PROTOCOL_VERSION}; the host offered ${offered.join(', ')} (Terraform ≥ 1.0 or OpenTofu needed)\n`,
    );
    process.exit(1);
  }

  const assets = providerAssets();
  const { definitions } = assets;
  const schema = served?.schema ?? assets.schema;
  const loadService =
    served?.loadService ??
    ((env: NodeJS.ProcessEnv) => import('./service.js').then((module) => module.providerService(schema, env)));
  // biome-ignore lint/suspicious/noExplicitAny: the package object is built at run time from the .proto files
  const loaded = grpc.loadPackageDefinition(definitions) as any;

  const server = new grpc.Server({
    'grpc.max_receive_message_length': 256 << 20,
    'grpc.max_send_message_length': 256 << 20,
  });
  // The schema is answered at once; the resource logic (SDK, zod, key policy) loads on the first
  // other RPC, so a start that only reads the schema never pays for it.
  const metadata: Record<string, Handler> = metadataHandlers(schema);
  let service: Promise<Record<string, Handler>> | undefined;
  const handlerFor = async (name: string): Promise<Handler | undefined> => {
    if (metadata[name]) return metadata[name];
    service ??= loadService(environment);
    return (await service)[name];
  };
  // Every unary RPC of the protocol: a handler the service lacks answers UNIMPLEMENTED, as an
  // unregistered method would.
  const rpcNames = Object.entries(
    loaded.tfplugin6.Provider.service as Record<string, { requestStream: boolean; responseStream: boolean }>,
  )
    .filter(([, method]) => !method.requestStream && !method.responseStream)
    .map(([name]) => name);
  server.addService(
    loaded.tfplugin6.Provider.service,
    Object.fromEntries(
      rpcNames.map((name) => [
        name,
        (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
          void handlerFor(name)
            .then((handler) =>
              handler
                ? handler(call.request).then((response) => callback(null, response))
                : callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented` }),
            )
            .catch((error: Error) => callback({ code: grpc.status.INTERNAL, details: error.message })),
      ]),
    ),
  );
  server.addService(loaded.grpc.health.v1.Health.service, {
    Check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { status: 'SERVING' }),
    Watch: (call: grpc.ServerWritableStream<unknown, unknown>) => call.write({ status: 'SERVING' }),
  });
  server.addService(loaded.plugin.GRPCController.service, {
    Shutdown: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      callback(null, {});
      setImmediate(() => server.tryShutdown(() => process.exit(0)));
    },
  });

  const clientCertificate = environment.PLUGIN_CLIENT_CERT;
  let credentials = grpc.ServerCredentials.createInsecure();
  let advertisedCertificate = '';
  if (clientCertificate) {
    const own = localhostCertificate();
    // Mutual TLS: only the host that started us, holding the certificate it sent, may call.
    credentials = grpc.ServerCredentials.createSsl(
      Buffer.from(clientCertificate),
      [{ cert_chain: Buffer.from(own.certPem), private_key: Buffer.from(own.keyPem) }],
      true,
    );
    advertisedCertificate = own.der.toString('base64').replace(/=+$/, '');
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  process.stdout.write(
    `${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|tcp|127.0.0.1:${port}|grpc|${advertisedCertificate}\n`,
  );
  // The host interrupts its whole process group on Ctrl-C and then stops us itself, over gRPC.
  process.on('SIGINT', () => undefined);
  return server;
}
