/** Starting and stopping the mock WinRM endpoint, and its public handle. */

import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { RESOURCE_URIS } from '../wsman/constants.ts';
import { basicScheme } from './auth/basic.ts';
import { AuthGate } from './auth/gate.ts';
import { KerberosMechanism, kerberosScheme } from './auth/kerberos/scheme.ts';
import { negotiateScheme } from './auth/negotiate.ts';
import type { AuthScheme, ConnectionAuthState } from './auth/types.ts';
import { CimProvider } from './cim/provider.ts';
import { createLiveConfig, type LiveConfig } from './config/live.ts';
import { configProvider } from './config/provider.ts';
import { Dispatcher } from './dispatch/dispatcher.ts';
import { resourceHandler } from './dispatch/resources.ts';
import { cmdShellResource } from './dispatch/shell.ts';
import type { ResourceHandler } from './dispatch/types.ts';
import { builtinsHost } from './hosts/builtins.ts';
import { FileArea } from './hosts/files.ts';
import { localHost } from './hosts/local.ts';
import type { CommandHost } from './hosts/types.ts';
import { createRequestHandler } from './http.ts';
import { createMockHttpServer } from './http-server.ts';
import { type FaultInjection, InjectionRegistry } from './injection.ts';
import { type MockStats, type RequestLogEntry, RequestRecorder } from './log.ts';
import { defaultFileRootPrefix, type MockServerOptions, resolveOptions } from './options.ts';
import { type ShellSnapshot, ShellStore } from './shells/store.ts';
import {
  type CertificateThumbprints,
  generateSelfSignedCertificate,
  thumbprintsOfPem,
} from './tls/certificate.ts';

/** A running mock endpoint. */
export interface MockServer {
  /** Endpoint URL, e.g. `http://127.0.0.1:49152/wsman`. */
  readonly url: string;
  readonly port: number;
  readonly https: boolean;
  /** Certificate thumbprints (upper-case hex, as Windows shows them); HTTPS only. */
  readonly thumbprints: CertificateThumbprints | undefined;
  /** The served certificate (PEM); HTTPS only. Trust it with `ca`, or pin a thumbprint. */
  readonly certificatePem: string | undefined;
  /** The directory standing for the Windows drives (`C:\` is `<fileRoot>/C`). */
  readonly fileRoot: string;
  /** The live `winrm/config` settings and listeners (serve them with `configProvider`, src/mock/config). */
  readonly config: LiveConfig;
  /** Counters; a live object. */
  readonly stats: MockStats;
  /** Requests in order (method, action, auth scheme, sizes, status, fault code); never headers or bodies. */
  readonly requestLog: readonly RequestLogEntry[];
  /** Snapshot of the open shells and their commands. */
  shells(): ShellSnapshot[];
  /** Arm a fault injection (see {@link FaultInjection}). */
  inject(injection: FaultInjection): void;
  /** Disarm all injections. */
  clearInjections(): void;
  /** Stop listening, end keep-alive and hung connections, kill running commands; resolves when all is down. */
  close(): Promise<void>;
}

/** Start a mock WinRM endpoint. See docs/mock.md. */
export async function startMockServer(options: MockServerOptions = {}): Promise<MockServer> {
  const o = resolveOptions(options);
  const ownRoot = o.fileRoot === undefined;
  const fileRoot = o.fileRoot ?? (await mkdtemp(defaultFileRootPrefix()));
  const files = new FileArea(fileRoot);
  for (const u of o.users) await files.prepareUser(u.name);

  const host: CommandHost =
    o.commandHost === 'builtins'
      ? builtinsHost({ files, windowsVersion: `${o.productVersion}.1` })
      : o.commandHost === 'local'
        ? localHost()
        : o.commandHost;
  const store = new ShellStore(o, host, fileRoot);
  // The live winrm/config tree: `settings` is the resolved options object itself (a Put changes what the gate,
  // the HTTP layer and the dispatcher read next); the listener shows the port once the server listens.
  let listeningPort = o.port;
  let thumbprints: CertificateThumbprints | undefined;
  const live: LiveConfig = createLiveConfig(o, () => ({
    ...o,
    port: listeningPort,
    sha1Thumbprint: thumbprints?.sha1,
  }));
  const resources: ResourceHandler[] = [
    cmdShellResource(store),
    resourceHandler({
      providers: [
        ...(options.resourceProviders ?? []),
        configProvider(live),
        new CimProvider({ computerName: o.machineName, version: o.productVersion }),
      ],
      contextTimeoutMs: options.enumerationContextTimeoutMs,
    }),
  ];
  const dispatcher = new Dispatcher({
    resources,
    // Read live: a Put of winrm/config MaxEnvelopeSizekb / MaxTimeoutms applies to the next request.
    get maxEnvelopeSize() {
      return o.maxEnvelopeSize;
    },
    get maxTimeoutMs() {
      return o.quotas.maxTimeoutMs;
    },
  });
  let tls: { key: string; cert: string } | undefined;
  if (o.https) {
    if (o.tls) {
      tls = o.tls;
      thumbprints = thumbprintsOfPem(o.tls.cert);
    } else {
      const altNames = [...new Set(['localhost', '127.0.0.1', '::1', o.machineName, o.host])].filter(
        (n) => n !== '0.0.0.0' && n !== '::',
      );
      const gen = await generateSelfSignedCertificate({ commonName: o.machineName, altNames });
      tls = { key: gen.keyPem, cert: gen.certPem };
      thumbprints = gen.thumbprints;
    }
  }

  // Both schemes exist; winrm/config/service/Auth (o.auth, live) switches them. Basic reads o.allowUnencrypted live.
  const certificateDer = tls ? new X509Certificate(tls.cert).raw : undefined;
  // Kerberos (a keytab configured): the mock's own acceptor, for the Kerberos scheme and inside Negotiate.
  const kerberos = o.auth.kerberos
    ? new KerberosMechanism({
        keys: o.auth.kerberos.keys,
        users: o.users,
        maxClockSkewMs: o.auth.kerberos.maxClockSkewMs,
        channelBinding: o.auth.channelBinding,
        certificateDer,
      })
    : undefined;
  const schemes: AuthScheme[] = [
    basicScheme(o),
    negotiateScheme({
      machineName: o.machineName,
      channelBinding: o.auth.channelBinding,
      certificateDer,
      kerberos,
    }),
    ...(kerberos ? [kerberosScheme(kerberos)] : []),
  ];
  const gate = new AuthGate(schemes, o.users, (name) =>
    name === 'Basic'
      ? o.auth.basic
      : name === 'Negotiate'
        ? o.auth.negotiate
        : name === 'Kerberos'
          ? o.auth.kerberos !== undefined
          : false,
  );
  const injections = new InjectionRegistry();
  const recorder = new RequestRecorder();
  const connState = new WeakMap<Socket, ConnectionAuthState>();

  const handler = createRequestHandler({
    path: o.path,
    https: o.https,
    get allowUnencrypted() {
      return o.allowUnencrypted;
    },
    get maxEnvelopeSize() {
      return o.maxEnvelopeSize;
    },
    machineName: o.machineName,
    productVersion: o.productVersion,
    gate,
    dispatcher,
    injections,
    recorder,
    connectionState: (socket) => {
      let s = connState.get(socket);
      if (!s) {
        s = { pending: new Map() };
        connState.set(socket, s);
      }
      return s;
    },
  });
  // Timeouts bound how long a request may take to arrive; a Receive may still take MaxTimeoutms to answer.
  const server: Server = createMockHttpServer(
    {
      tls: tls ? { key: tls.key, cert: tls.cert } : undefined,
      idleTimeoutMs: o.http.idleTimeoutMs,
      headersTimeoutMs: o.http.headersTimeoutMs,
      requestTimeoutMs: o.http.requestTimeoutMs,
      maxPipelinedRequests: o.http.maxPipelinedRequests,
      maxDrainBytes: o.maxEnvelopeSize,
    },
    handler,
  );
  const sockets = new Set<Socket>();
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    recorder.stats.connections++;
    socket.once('close', () => sockets.delete(socket));
  });
  // TLS handshakes that never complete still hold a raw socket.
  if (tls)
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  listeningPort = port;
  const urlHost =
    o.host === '0.0.0.0'
      ? '127.0.0.1'
      : o.host === '::'
        ? '[::1]'
        : o.host.includes(':')
          ? `[${o.host}]`
          : o.host;
  const url = `${o.https ? 'https' : 'http'}://${urlHost}:${port}${o.path}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    https: o.https,
    thumbprints,
    certificatePem: tls?.cert,
    fileRoot,
    config: live,
    stats: recorder.stats,
    requestLog: recorder.log,
    shells: () => store.snapshot(),
    inject: (i) => injections.add(i),
    clearInjections: () => injections.clear(),
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await store.close();
        await host.close?.();
        await stopped;
        if (ownRoot) await rm(fileRoot, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** Resource URIs the mock serves today; others get Windows' unknown-resource fault. */
export const SERVED_RESOURCE_URIS = [RESOURCE_URIS.cmd] as const;
