/** The mock acceptor's Kerberos crypto against the published vectors of RFC 3961 (A.1) and RFC 3962 (B). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checksum,
  ctsDecrypt,
  ctsEncrypt,
  decrypt,
  ENCTYPE,
  encrypt,
  KrbCryptoError,
  nfold,
  stringToKey,
} from '../../src/krb5/crypto.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Kerberos crypto (mock acceptor)', () => {
  it('n-fold matches RFC 3961 A.1', () => {
    const cases: [string, number, string][] = [
      ['012345', 64, 'be072631276b1955'],
      ['password', 56, '78a07b6caf85fa'],
      ['Rough Consensus, and Running Code', 64, 'bb6ed30870b7f0e0'],
      ['password', 168, '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
      ['MASSACHVSETTS INSTITVTE OF TECHNOLOGY', 192, 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
      ['Q', 168, '518a54a215a8452a518a54a215a8452a518a54a215'],
      ['ba', 168, 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
      ['kerberos', 64, '6b65726265726f73'],
      ['kerberos', 128, '6b65726265726f737b9b5b2b93132b93'],
      ['kerberos', 168, '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4'],
      ['kerberos', 256, '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
    ];
    for (const [input, bits, want] of cases) {
      assert.equal(
        nfold(Buffer.from(input, 'latin1'), bits / 8).toString('hex'),
        want,
        `${bits}-fold("${input}")`,
      );
    }
  });

  it('AES-CTS matches RFC 3962 B (both ways)', () => {
    const key = Buffer.from('chicken teriyaki', 'latin1');
    const input = Buffer.from("I would like the General Gau's Chicken, please, and wonton soup.", 'latin1');
    const cases: [number, string][] = [
      [17, 'c6353568f2bf8cb4d8a580362da7ff7f97'],
      [31, 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
      [32, '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
      [47, '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
      [
        48,
        '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8',
      ],
      [
        64,
        '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8',
      ],
    ];
    for (const [length, want] of cases) {
      const plain = input.subarray(0, length);
      assert.equal(ctsEncrypt(key, plain).toString('hex'), want, `encrypt ${length} bytes`);
      assert.deepEqual(ctsDecrypt(key, hex(want)), plain, `decrypt ${length} bytes`);
    }
  });

  it('string-to-key matches RFC 3962 B (PBKDF2 + DK "kerberos")', () => {
    const salt = 'ATHENA.MIT.EDUraeburn';
    assert.equal(
      stringToKey(ENCTYPE.aes128, 'password', salt, 1).toString('hex'),
      '42263c6e89f4fc28b8df68ee09799f15',
    );
    assert.equal(
      stringToKey(ENCTYPE.aes256, 'password', salt, 1).toString('hex'),
      'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161',
    );
    assert.equal(
      stringToKey(ENCTYPE.aes128, 'password', salt, 1200).toString('hex'),
      '4c01cd46d632d01e6dbe230a01ed642a',
    );
  });

  it('encrypt/decrypt round-trips with usage separation and refuses altered data', () => {
    const key = {
      enctype: ENCTYPE.aes256,
      key: hex('fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161'),
    };
    const plain = Buffer.from('a ticket body of some length, 41 bytes.!!', 'latin1');
    const sealed = encrypt(key, 2, plain);
    assert.equal(sealed.length, 16 + plain.length + 12);
    assert.deepEqual(decrypt(key, 2, sealed), plain);
    assert.throws(() => decrypt(key, 11, sealed), KrbCryptoError);
    const bad = Buffer.from(sealed);
    bad[20]! ^= 1;
    assert.throws(() => decrypt(key, 2, bad), KrbCryptoError);
    assert.throws(
      () => decrypt({ enctype: ENCTYPE.aes256, key: Buffer.alloc(20) }, 2, sealed),
      /must have 32 bytes/,
    );
    assert.notDeepEqual(checksum(key, 23, plain), checksum(key, 25, plain));
    assert.equal(checksum(key, 23, plain).length, 12);
  });
});
