/**
 * NTLM over HTTP for WinRM ([MS-WSMV] 3.1.4.1.x): `Authorization: Negotiate <NTLM token>` handshake bound to one
 * socket, then messages sealed with NTLM session security in the multipart/encrypted framing, so a server left
 * at AllowUnencrypted=false accepts them over plain HTTP.
 *
 * Per channel (one socket): NEGOTIATE with an empty body → 401 with the CHALLENGE → AUTHENTICATE carrying the
 * first real (sealed) message. Later messages carry no Authorization header. When the socket was closed, the next
 * request authenticates again; a 401 on an authenticated socket triggers one fresh handshake.
 */
import { type Account, forNtlm } from '../account.ts';
import { AuthenticationError, ProtocolError } from '../errors.ts';
import type { HttpChannel, HttpResponse } from '../transport/http.ts';
import {
  ENCRYPTED_PROTOCOLS,
  encryptedContentType,
  frameEncrypted,
  isEncryptedContentType,
  parseEncrypted,
} from './encryption.ts';
import { createNtlmClient, tlsServerEndPointApplicationData, tlsServerEndPointHash } from './ntlm/index.ts';
import type { NtlmSession } from './ntlm/session.ts';
import type { AuthExchangeOptions, AuthMechanismImpl } from './types.ts';

const SOAP_TYPE = 'application/soap+xml;charset=UTF-8';

interface ChannelState {
  session: NtlmSession;
  socket: unknown;
}

export interface NtlmHttpOptions {
  account: Account;
  password: string;
  /** Seal messages (over HTTP: required by Windows' defaults). */
  encrypt: boolean;
  /** Send channel bindings (tls-server-end-point) over HTTPS. Default: true. */
  channelBinding?: boolean;
  /** HTTP header scheme: 'Negotiate' (what Windows' client sends) or 'NTLM'. Default: 'Negotiate'. */
  headerScheme?: 'Negotiate' | 'NTLM';
}

export class NtlmHttpAuth implements AuthMechanismImpl {
  /** The header scheme in use: 'Negotiate', or 'NTLM' once a server offered only that. */
  scheme: string;
  readonly encrypts: boolean;
  readonly #password: string;
  readonly #user: { user: string; domain: string };

  constructor(private readonly o: NtlmHttpOptions) {
    this.scheme = o.headerScheme ?? 'Negotiate';
    this.encrypts = o.encrypt;
    this.#password = o.password;
    this.#user = forNtlm(o.account);
  }

  async exchange(channel: HttpChannel, soap: Buffer, options: AuthExchangeOptions): Promise<HttpResponse> {
    const state = channel.authState as ChannelState | undefined;
    const socketGone =
      !state || !channel.lastSocket || channel.lastSocket.destroyed || state.socket !== channel.lastSocket;
    if (!socketGone) {
      const res = await channel.post(this.body(state.session, soap), {
        headers: this.headers(),
        signal: options.signal,
      });
      // 400 to a sealed message: the server could not verify it, so the two sequence counters no longer agree;
      // the next message on this channel authenticates afresh.
      if (res.status === 400 && this.encrypts) channel.authState = undefined;
      if (res.status !== 401) return this.open(state.session, res);
      channel.authState = undefined;
    }
    return this.handshake(channel, soap, options);
  }

  private async handshake(
    channel: HttpChannel,
    soap: Buffer,
    options: AuthExchangeOptions,
  ): Promise<HttpResponse> {
    const identity = { user: this.#user.user, domain: this.#user.domain, password: this.#password };
    // NEGOTIATE does not depend on the channel bindings, so it can go out before the TLS certificate is known.
    const negotiate = createNtlmClient(identity).negotiate();
    const first = await channel.post(Buffer.alloc(0), {
      headers: { Authorization: `${this.scheme} ${negotiate.toString('base64')}`, 'Content-Type': SOAP_TYPE },
      signal: options.signal,
    });
    const challenge = this.challengeFrom(first);
    if (
      !challenge &&
      first.status === 401 &&
      this.scheme !== 'NTLM' &&
      offered(first).some((o) => /^ntlm$/i.test(o))
    ) {
      // A server (or proxy) that offers the bare NTLM scheme instead of Negotiate.
      this.scheme = 'NTLM';
      return this.handshake(channel, soap, options);
    }
    if (!challenge) {
      if (first.status === 401) {
        throw new AuthenticationError(
          `The server did not answer the NTLM NEGOTIATE with a challenge (it offers: ${offered(first).join(', ') || 'nothing'})`,
          {
            offeredSchemes: offered(first),
            remedy:
              'Negotiate must stay enabled on the server: winrm set winrm/config/service/Auth @{Negotiate="true"}',
          },
        );
      }
      return first;
    }
    const cert = channel.peerCertificate();
    const useCbt = (this.o.channelBinding ?? true) && cert?.raw !== undefined;
    const bindings = useCbt ? tlsServerEndPointApplicationData(tlsServerEndPointHash(cert!.raw)) : undefined;
    const client = createNtlmClient({ ...identity, channelBindings: bindings });
    if (!client.negotiate().equals(negotiate)) throw new ProtocolError('NTLM NEGOTIATE is not deterministic');
    const { message, session } = client.authenticate(challenge);
    const res = await channel.post(this.body(session, soap), {
      headers: { ...this.headers(), Authorization: `${this.scheme} ${message.toString('base64')}` },
      signal: options.signal,
    });
    if (res.status === 401) {
      throw new AuthenticationError(
        `NTLM authentication as "${this.o.account.original}" was refused (HTTP 401)`,
        {
          offeredSchemes: offered(res),
          remedy:
            'check the user name, domain and password; write domain accounts as DOMAIN\\USER or USER@FULL.DOMAIN',
        },
      );
    }
    channel.authState = { session, socket: channel.lastSocket } satisfies ChannelState;
    return this.open(session, res);
  }

  private challengeFrom(res: HttpResponse): Buffer | undefined {
    if (res.status !== 401) return undefined;
    for (const h of headerList(res.headers['www-authenticate'])) {
      const m = /^(Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h.trim());
      if (m) return Buffer.from(m[2]!, 'base64');
    }
    return undefined;
  }

  private headers(): Record<string, string> {
    return { 'Content-Type': this.encrypts ? encryptedContentType(ENCRYPTED_PROTOCOLS.spnego) : SOAP_TYPE };
  }

  private body(session: NtlmSession, soap: Buffer): Buffer {
    return this.encrypts ? frameEncrypted(session.wrap(soap), soap.length) : soap;
  }

  /** Decrypt and verify a response. A clear-text SOAP answer to an encrypted request is refused. */
  private open(session: NtlmSession, res: HttpResponse): HttpResponse {
    const ct = String(res.headers['content-type'] ?? '');
    if (isEncryptedContentType(ct)) {
      const parts = parseEncrypted(res.body);
      const plain = session.unwrap(parts.payload);
      return { ...res, headers: { ...res.headers, 'content-type': SOAP_TYPE }, body: plain };
    }
    if (this.encrypts && res.body.length > 0) {
      throw new ProtocolError(
        `The server answered an encrypted request with an unencrypted body (HTTP ${res.status}, ${ct || 'no type'})`,
        {
          remedy: 'this is refused to keep messages confidential; check for a proxy rewriting WinRM traffic',
        },
      );
    }
    return res;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `NtlmHttpAuth { user: ${JSON.stringify(this.o.account.original)}, encrypt: ${this.encrypts} }`;
  }

  toJSON(): object {
    return { scheme: this.scheme, encrypts: this.encrypts };
  }
}

function headerList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((h) =>
    h.split(/,\s*(?=(?:Negotiate|NTLM|Kerberos|Basic|CredSSP)\b)/i),
  );
}

function offered(res: HttpResponse): string[] {
  return headerList(res.headers['www-authenticate']).map((h) => h.trim().split(/\s+/)[0] ?? '');
}
