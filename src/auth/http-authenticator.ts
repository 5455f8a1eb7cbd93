/**
 * Drives any mechanism over HTTP ([MS-WSMV] 3.1.4.1.x for WinRM). Per-request mechanisms (Basic) put their
 * token on every request. Connection-bound ones (NTLM, Kerberos) authenticate each socket: the legs before the
 * last go with an empty body, the last token goes with the first real (sealed) message, later messages carry no
 * Authorization. A new socket authenticates again; a 401 on an authenticated socket gets one fresh handshake;
 * a 400 to a sealed message means the sequence numbers no longer agree, so the next message re-authenticates.
 */
import type { DebugLog } from '../debug.ts';
import { AuthenticationError, ProtocolError } from '../errors.ts';
import type { ChannelResponse, HttpChannel, HttpResponse } from '../http/channel.ts';
import { channelBindingsFor } from './channel-bindings.ts';
import type { AsyncSecurityContext, AuthMechanism, SecurityContext } from './mechanism.ts';
import {
  decryptMessage,
  ENCRYPTED_PROTOCOLS,
  type EncryptedProtocol,
  encryptedContentType,
  encryptMessage,
  frameEncrypted,
  isEncryptedContentType,
  parseEncrypted,
  SOAP_CONTENT_TYPE,
} from './message-encryption.ts';
import { type Challenge, parseChallenges } from './www-authenticate.ts';

export interface AuthSendOptions {
  signal?: AbortSignal;
  /** Extra request headers (e.g. WSMANIDENTIFY). Authorization and Content-Type are the authenticator's. */
  headers?: Record<string, string>;
  /** Send without Authorization and unsealed (an unauthenticated Identify). Default: true. */
  authenticate?: boolean;
}

export interface AuthenticatorConfig {
  /** Host (and port) as shown in messages. */
  host: string;
  https: boolean;
  /**
   * Where the `auth` debug lines go (scheme, each leg's status, why a login was refused; never a token or a
   * secret). Default: none.
   */
  debug?: DebugLog;
}

type AnySecurityContext = SecurityContext | AsyncSecurityContext;

interface ConnectionState {
  generation: number;
  security: AnySecurityContext | undefined;
}

/** Most round trips one handshake may take (NTLM needs 2, Kerberos 1 or 2). */
const MAX_LEGS = 4;
const EMPTY = Buffer.alloc(0);

export class HttpAuthenticator {
  #scheme: string;
  #announced = false;

  constructor(
    private readonly mechanism: AuthMechanism,
    private readonly config: AuthenticatorConfig,
  ) {
    this.#scheme = mechanism.schemes[0]!;
  }

  /** The header scheme in use, e.g. 'Negotiate', or 'NTLM' once a server offered only that. */
  get scheme(): string {
    return this.#scheme;
  }

  /** Whether message bodies are sealed. */
  get encrypts(): boolean {
    return this.mechanism.encrypts;
  }

  /** Send one SOAP body on the channel, authenticating as needed; returns the plaintext answer. */
  async send(channel: HttpChannel, soap: Buffer, options: AuthSendOptions = {}): Promise<HttpResponse> {
    const extra = options.headers ?? {};
    const signal = options.signal;
    if (options.authenticate === false) {
      const res = await channel.post(soap, {
        headers: { ...extra, 'Content-Type': SOAP_CONTENT_TYPE },
        signal,
      });
      if (res.status === 401) throw this.#fail(this.#refused(res, false));
      return res;
    }
    if (!this.mechanism.connectionBound) {
      if (!this.#announced) {
        this.#announced = true;
        this.#log(
          () =>
            `${this.#scheme} chosen for ${this.mechanism.describeAccount()} (credentials on every request)`,
        );
      }
      const token = (await this.mechanism.begin({}).init()).token ?? EMPTY;
      const res = await channel.post(soap, {
        headers: { ...extra, Authorization: this.#authorization(token), 'Content-Type': SOAP_CONTENT_TYPE },
        signal,
      });
      if (res.status === 401) throw this.#fail(this.#refused(res, true));
      return res;
    }
    const info = await channel.open(signal);
    const state = channel.authState as ConnectionState | undefined;
    if (state && state.generation === info.generation) {
      const res = await channel.post(await this.#body(state.security, soap), {
        headers: this.#headers(state.security, extra),
        signal,
      });
      if (res.status === 400 && state.security?.encrypts) {
        this.#log(
          () =>
            `HTTP 400 to a sealed message on connection #${info.generation}: the next message authenticates again`,
        );
        channel.authState = undefined;
      }
      if (res.status !== 401) return this.#open(state.security, res);
      this.#log(
        () => `HTTP 401 on authenticated connection #${info.generation}: one fresh ${this.#scheme} handshake`,
      );
      channel.authState = undefined; // the server forgot the connection's authentication: one fresh handshake
    }
    return this.#handshake(channel, soap, extra, signal, 0);
  }

  async #handshake(
    channel: HttpChannel,
    soap: Buffer,
    extra: Record<string, string>,
    signal: AbortSignal | undefined,
    attempt: number,
  ): Promise<HttpResponse> {
    const info = await channel.open(signal);
    const ctx = this.mechanism.begin(
      {
        peerCertificate: info.peerCertificate,
        channelBindings: channelBindingsFor(info.peerCertificate),
      },
      this.#scheme,
    );
    this.#log(
      () =>
        `${this.#scheme} handshake for ${this.mechanism.describeAccount()} on connection #${info.generation}` +
        `${attempt > 0 ? ` (attempt ${attempt + 1})` : ''}${this.mechanism.encrypts ? ', messages sealed' : ''}`,
    );
    let out = await ctx.init();
    for (let leg = 0; leg < MAX_LEGS; leg++) {
      if (out.done) {
        const security = ctx.securityContext();
        const headers = this.#headers(security, extra);
        if (out.token) headers.Authorization = this.#authorization(out.token);
        const res = await channel.post(await this.#body(security, soap), { headers, signal });
        this.#log(() => `${this.#scheme} leg ${leg + 1} (last token with the message): HTTP ${res.status}`);
        if (res.status === 401) throw this.#fail(this.#refused(res, true));
        const final = this.#serverToken(parseChallenges(res.headers['www-authenticate']));
        await ctx.complete?.(final?.token68 ? Buffer.from(final.token68, 'base64') : undefined);
        channel.authState = { generation: res.generation, security } satisfies ConnectionState;
        return this.#open(security, res);
      }
      const res = await channel.post(EMPTY, {
        headers: {
          ...extra,
          Authorization: this.#authorization(out.token ?? EMPTY),
          'Content-Type': SOAP_CONTENT_TYPE,
        },
        signal,
      });
      if (res.generation !== info.generation) {
        // The socket was replaced mid-handshake (the server closed it): start over on the new one, once.
        if (attempt < 2) return this.#handshake(channel, soap, extra, signal, attempt + 1);
        throw this.#fail(
          new ProtocolError(
            `The connection to ${this.config.host} closed during every ${this.#scheme} handshake`,
          ),
        );
      }
      const challenges = parseChallenges(res.headers['www-authenticate']);
      const token = this.#serverToken(challenges);
      this.#log(
        () =>
          `${this.#scheme} leg ${leg + 1}: HTTP ${res.status}, ${token?.token68 ? 'server token received' : `no server token (offers: ${challenges.map((c) => c.scheme).join(', ') || 'nothing'})`}`,
      );
      if (!token?.token68) {
        if (res.status !== 401) {
          // Answered without completing the handshake: a mechanism that needs the server's token (Kerberos'
          // mutual authentication) refuses here; the others take the answer as it is.
          await ctx.complete?.(undefined);
          return res;
        }
        const offered = challenges.map((c) => c.scheme);
        const alternative = this.mechanism.schemes.find(
          (s) => s !== this.#scheme && offered.some((o) => o.toLowerCase() === s.toLowerCase()),
        );
        if (alternative && attempt < 2) {
          // A server (or proxy) that offers the bare NTLM scheme instead of Negotiate.
          this.#log(() => `the server does not offer ${this.#scheme}; switching to ${alternative}`);
          this.#scheme = alternative;
          return this.#handshake(channel, soap, extra, signal, attempt + 1);
        }
        throw this.#fail(
          new AuthenticationError(
            `The server did not answer the first ${this.#scheme} token with a challenge (it offers: ${offered.join(', ') || 'nothing'})`,
            {
              offeredSchemes: offered,
              remedy:
                'Negotiate must stay enabled on the server: winrm set winrm/config/service/Auth @{Negotiate="true"}',
            },
          ),
        );
      }
      out = await ctx.step(Buffer.from(token.token68, 'base64'));
    }
    throw this.#fail(
      new ProtocolError(
        `The ${this.#scheme} handshake with ${this.config.host} did not finish in ${MAX_LEGS} legs`,
      ),
    );
  }

  #log(line: () => string): void {
    this.config.debug?.log('auth', line);
  }

  /** Log why a login failed (the error's message: account, scheme, offered schemes; never a secret). */
  #fail<E extends Error>(err: E): E {
    this.#log(() => `login failed: ${err.message}`);
    return err;
  }

  /** The server's token: under the scheme in use, or (as some servers answer) under another of the mechanism's. */
  #serverToken(challenges: Challenge[]): Challenge | undefined {
    const mine = (c: Challenge, scheme: string) =>
      c.token68 && c.scheme.toLowerCase() === scheme.toLowerCase();
    return (
      challenges.find((c) => mine(c, this.#scheme)) ??
      challenges.find((c) => this.mechanism.schemes.some((s) => mine(c, s)))
    );
  }

  #authorization(token: Buffer): string {
    return `${this.#scheme} ${token.toString('base64')}`;
  }

  #headers(security: AnySecurityContext | undefined, extra: Record<string, string>): Record<string, string> {
    const type = security?.encrypts ? encryptedContentType(this.#protocol()) : SOAP_CONTENT_TYPE;
    return { ...extra, 'Content-Type': type };
  }

  /** The multipart protocol: HTTP-Kerberos-session-encrypted under the Kerberos scheme, else SPNEGO's. */
  #protocol(): EncryptedProtocol {
    return this.#scheme.toLowerCase() === 'kerberos'
      ? ENCRYPTED_PROTOCOLS.kerberos
      : ENCRYPTED_PROTOCOLS.spnego;
  }

  async #body(security: AnySecurityContext | undefined, soap: Buffer): Promise<Buffer> {
    if (!security?.encrypts) return soap;
    if ('asynchronous' in security)
      return frameEncrypted(await security.wrap(soap), soap.length, this.#protocol());
    return encryptMessage(security, soap, this.#protocol());
  }

  async #decrypt(security: AnySecurityContext, body: Buffer): Promise<Buffer> {
    if (!('asynchronous' in security)) return decryptMessage(security, body);
    const parts = parseEncrypted(body);
    const plain = await security.unwrap(parts.header, parts.data);
    if (plain.length !== parts.length) {
      throw new ProtocolError(
        `The decrypted message has ${plain.length} bytes but OriginalContent declares ${parts.length}`,
      );
    }
    return plain;
  }

  /** Decrypt and verify an answer. A clear-text answer to an encrypted request is refused. */
  async #open(security: AnySecurityContext | undefined, res: ChannelResponse): Promise<HttpResponse> {
    const ct = String(res.headers['content-type'] ?? '');
    if (isEncryptedContentType(ct)) {
      if (!security) {
        throw new ProtocolError(
          'The server sent an encrypted answer on a connection without a security context',
        );
      }
      const body = await this.#decrypt(security, res.body);
      return { status: res.status, headers: { ...res.headers, 'content-type': SOAP_CONTENT_TYPE }, body };
    }
    if (security?.encrypts && res.body.length > 0) {
      throw new ProtocolError(
        `The server answered an encrypted request with an unencrypted body (HTTP ${res.status}, ${ct || 'no type'})`,
        {
          remedy: 'this is refused to keep messages confidential; check for a proxy rewriting WinRM traffic',
        },
      );
    }
    return res;
  }

  #refused(res: HttpResponse, authenticated: boolean): AuthenticationError {
    const offered = parseChallenges(res.headers['www-authenticate']).map((c: Challenge) => c.scheme);
    const list = `server offers: ${offered.length > 0 ? offered.join(', ') : 'nothing'}`;
    if (!authenticated) {
      return new AuthenticationError(
        `An unauthenticated request was refused by ${this.config.host} (HTTP 401; ${list})`,
        {
          offeredSchemes: offered,
          remedy: 'send it authenticated; the service allows only Identify without authentication',
        },
      );
    }
    return new AuthenticationError(
      `Authentication as ${this.mechanism.describeAccount()} with ${this.#scheme} was refused by ${this.config.host} (HTTP 401; ${list})`,
      { offeredSchemes: offered, remedy: this.mechanism.refusedRemedy(offered, this.config.https) },
    );
  }
}
