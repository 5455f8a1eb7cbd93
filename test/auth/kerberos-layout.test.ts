/**
 * WinRM's layout of Kerberos wrap tokens (src/auth/kerberos/layout.ts), byte by byte: synthetic tokens, then MIT
 * GSSAPI tokens both ways. MIT's acceptor (python3-gssapi, test/helpers/krb_acceptor.py) unwraps what the layout
 * code makes of an independent MIT initiator's plain gss_wrap tokens, and the client's unwrap (its own RFC 4121
 * code, src/auth/kerberos/wrap.ts) reads what MIT's acceptor seals in Windows' layout (gss_wrap_iov as pyspnego does it, and a
 * plain token rotated by RRC 28 by hand). One realm per file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  fromWinRmLayout,
  readWrapHeader,
  rotateRight,
  toWinRmLayout,
} from '../../src/auth/kerberos/layout.ts';
import { KerberosMechanism } from '../../src/auth/kerberos/mechanism.ts';
import type { AsyncSecurityContext } from '../../src/auth/mechanism.ts';
import { ProtocolError } from '../../src/errors.ts';
import { resolveOptions } from '../../src/options/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';
import { MitAcceptor } from '../helpers/krb-server.ts';

function syntheticToken(plainLength: number, ec = 0): Buffer {
  const header = Buffer.from([0x05, 0x04, 0x06, 0xff, 0, ec, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
  // body: confounder(16) | plaintext | filler(ec) | header copy(16) | checksum(12), bytes numbered 0..n-1.
  const body = Buffer.from(Array.from({ length: 16 + plainLength + ec + 16 + 12 }, (_, i) => i & 0xff));
  return Buffer.concat([header, body]);
}

describe('Kerberos WinRM layout (synthetic tokens)', () => {
  it('rotates the body right by 28 and splits after token header + 28 + confounder', () => {
    const token = syntheticToken(100);
    const { header, data } = toWinRmLayout(token);
    assert.equal(header.length, 60);
    assert.equal(header.readUInt16BE(6), 28, 'RRC written');
    assert.deepEqual(header.subarray(0, 6), token.subarray(0, 6), 'TOK_ID, flags, filler, EC unchanged');
    assert.deepEqual(header.subarray(8, 16), token.subarray(8, 16), 'sequence number unchanged');
    const body = token.subarray(16);
    assert.deepEqual(header.subarray(16, 44), body.subarray(body.length - 28), 'E(header copy) | HMAC first');
    assert.deepEqual(header.subarray(44, 60), body.subarray(0, 16), 'then the confounder');
    assert.deepEqual(data, body.subarray(16, 16 + 100), 'data: the encrypted plaintext only');
  });

  it('keeps EC filler in data (data longer than the plaintext, as Windows sends with EC 16)', () => {
    const { header, data } = toWinRmLayout(syntheticToken(10, 16));
    assert.equal(header.length, 60);
    assert.equal(data.length, 10 + 16);
  });

  it('fromWinRmLayout joins header and data; rotateRight is a rotation', () => {
    const h = Buffer.from([0x05, 0x04, 0x06, 0xff, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9]);
    assert.deepEqual(fromWinRmLayout(h, Buffer.from([1, 2])), Buffer.concat([h, Buffer.from([1, 2])]));
    assert.deepEqual(rotateRight(Buffer.from([1, 2, 3, 4, 5]), 2), Buffer.from([4, 5, 1, 2, 3]));
    assert.deepEqual(rotateRight(Buffer.from([1, 2, 3]), 3), Buffer.from([1, 2, 3]));
  });

  it('refuses what is not a sealed RFC 4121 wrap token', () => {
    assert.throws(() => readWrapHeader(Buffer.from('0404ffff00000000', 'hex')), ProtocolError);
    const unsealed = syntheticToken(4);
    unsealed[2] = 0x04;
    assert.throws(() => toWinRmLayout(unsealed), /without confidentiality/);
    assert.throws(
      () => fromWinRmLayout(unsealed.subarray(0, 30), Buffer.alloc(0)),
      /without confidentiality/,
    );
    const shortHeader = Buffer.from([0x05, 0x04, 0x06, 0xff, 0, 0, 0, 28, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.throws(
      () => fromWinRmLayout(shortHeader, Buffer.alloc(40)),
      /shorter than its token header and RRC 28/,
    );
  });
});

describe('Kerberos WinRM layout against MIT GSSAPI', { skip: kdcSkip() }, () => {
  let kdc: Kdc;
  let mit: MitAcceptor;
  before(async () => {
    kdc = await startKdc();
    kdc.applyEnv();
    await kdc.kinit();
    mit = new MitAcceptor(kdc.env);
  });
  after(async () => {
    mit?.close();
    await kdc?.stop();
  });

  it("MIT's acceptor unwraps an MIT initiator's plain wrap token after toWinRmLayout (RRC 28)", async () => {
    const i = await mit.call({ op: 'istart', id: 'i1', target: 'WSMAN@localhost' });
    const a = await mit.call({ op: 'accept', id: 'a1', token: i.token });
    assert.equal(a.complete, true, a.error);
    assert.equal((await mit.call({ op: 'istep', id: 'i1', token: a.token })).complete, true);
    for (const text of ['x', '<s:Envelope>sealed</s:Envelope>', 'y'.repeat(70_000)]) {
      const w = await mit.call({ op: 'wrap', id: 'i1', data: Buffer.from(text).toString('base64') });
      const plain = Buffer.from(w.token!, 'base64');
      assert.equal(plain.readUInt16BE(6), 0, 'MIT gss_wrap writes RRC 0');
      const { header, data } = toWinRmLayout(plain);
      assert.equal(header.length, 60);
      const u = await mit.call({
        op: 'unwrap',
        id: 'a1',
        token: Buffer.concat([header, data]).toString('base64'),
      });
      assert.equal(u.error, undefined);
      assert.equal(u.encrypted, true);
      assert.equal(Buffer.from(u.data!, 'base64').toString(), text);
    }
  });

  async function clientContext(): Promise<{ sec: AsyncSecurityContext; id: string }> {
    const opts = resolveOptions({
      endpoint: 'http://localhost:5985/wsman',
      username: kdc.user,
      auth: 'kerberos',
    });
    const mech = new KerberosMechanism({ ...opts, password: undefined });
    const ctx = mech.begin();
    const first = await ctx.init();
    assert.equal(first.done, false, 'with encryption, the token goes first with an empty body');
    const id = `srv${Math.random()}`;
    const a = await mit.call({ op: 'accept', id, token: first.token!.toString('base64') });
    assert.equal(a.complete, true, a.error);
    assert.equal((await ctx.step(Buffer.from(a.token!, 'base64'))).done, true);
    const sec = ctx.securityContext();
    assert.ok(sec && 'asynchronous' in sec);
    return { sec, id };
  }

  it("the client unwraps MIT's acceptor tokens in Windows' layout (gss_wrap_iov, and plain rotated by 28)", async () => {
    const { sec, id } = await clientContext();
    const answer = Buffer.from('<s:Envelope>answer from the server</s:Envelope>');
    const iov = await mit.call({ op: 'wrap_winrm', id, data: answer.toString('base64') });
    const header = Buffer.from(iov.header!, 'base64');
    assert.equal(
      readWrapHeader(header).rrc,
      header.length - 16 - 16,
      'iov header: token header, rotated trailer, confounder',
    );
    assert.deepEqual(await sec.unwrap(header, Buffer.from(iov.data ?? '', 'base64')), answer);

    // A plain acceptor token rotated the way Windows sends it, by hand (RRC 28): join and unwrap.
    const plain = Buffer.from(
      (await mit.call({ op: 'wrap', id, data: answer.toString('base64') })).token!,
      'base64',
    );
    const body = plain.subarray(16);
    const rotated = Buffer.concat([
      plain.subarray(0, 16),
      body.subarray(body.length - 28),
      body.subarray(0, body.length - 28),
    ]);
    rotated.writeUInt16BE(28, 6);
    assert.deepEqual(await sec.unwrap(rotated.subarray(0, 60), rotated.subarray(60)), answer);

    // One flipped bit in the data: a ProtocolError, not garbage.
    const again = Buffer.from(
      (await mit.call({ op: 'wrap_winrm', id, data: answer.toString('base64') })).header!,
      'base64',
    );
    const d = Buffer.from(
      (await mit.call({ op: 'wrap_winrm', id, data: answer.toString('base64') })).data!,
      'base64',
    );
    d[3]! ^= 1;
    await assert.rejects(sec.unwrap(again, d), ProtocolError);
  });

  it("the client's wrap reaches MIT's acceptor in WinRM layout", async () => {
    const { sec, id } = await clientContext();
    const soap = Buffer.from('<s:Envelope>request body</s:Envelope>');
    const wrapped = await sec.wrap(soap);
    assert.equal(wrapped.header.length, 60);
    assert.equal(readWrapHeader(wrapped.header).rrc, 28);
    const u = await mit.call({
      op: 'unwrap',
      id,
      token: Buffer.concat([wrapped.header, wrapped.data]).toString('base64'),
    });
    assert.equal(u.error, undefined);
    assert.equal(Buffer.from(u.data!, 'base64').toString(), soap.toString());
  });
});
