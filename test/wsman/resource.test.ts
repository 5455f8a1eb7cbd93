/** winrm.cmd's resource syntax (aliases of `winrm help uris`, `?A=b+C=d` selectors) and its @{...} values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.ts';
import {
  expandResourceUri,
  parseHashtable,
  RESOURCE_ALIASES,
  resolveResource,
  resolveValues,
} from '../../src/wsman/resource.ts';

describe('resource syntax', () => {
  it('expands wmicimv2 as the seed shows, with a selector', () => {
    assert.deepEqual(resolveResource('wmicimv2/Win32_Service?Name=WinRM'), {
      resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service',
      selectors: { Name: 'WinRM' },
    });
  });

  it('splits winrm.cmd selectors on + and expands winrm/config', () => {
    assert.deepEqual(resolveResource('winrm/config/Listener?Address=*+Transport=HTTPS'), {
      resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/config/Listener',
      selectors: { Address: '*', Transport: 'HTTPS' },
    });
  });

  it('expands every alias of winrm help uris, case-insensitively', () => {
    assert.equal(
      expandResourceUri('wmi/root/cimv2/Win32_Service'),
      'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service',
    );
    assert.equal(
      expandResourceUri('cimv2/CIM_AdminDomain'),
      'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AdminDomain',
    );
    assert.equal(expandResourceUri('winrm/Config'), 'http://schemas.microsoft.com/wbem/wsman/1/Config');
    assert.equal(expandResourceUri('WSMAN/config'), 'http://schemas.microsoft.com/wbem/wsman/1/config');
    assert.equal(
      expandResourceUri('shell/cmd'),
      'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd',
    );
    assert.deepEqual(Object.keys(RESOURCE_ALIASES).sort(), [
      'cimv2',
      'shell',
      'winrm',
      'wmi',
      'wmicimv2',
      'wsman',
    ]);
  });

  it('keeps a full URI and merges a selector object over ? selectors', () => {
    const uri = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service';
    assert.deepEqual(resolveResource({ resourceUri: `${uri}?Name=x`, selectors: { Name: 'WinRM' } }), {
      resourceUri: uri,
      selectors: { Name: 'WinRM' },
    });
  });

  it('refuses an unknown alias with an InvalidArgumentError listing the known ones', () => {
    assert.throws(
      () => resolveResource('wmicim/Win32_Service'),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        /Unknown resource alias "wmicim"/.test(e.message) &&
        /wmi, wmicimv2, cimv2, winrm, wsman, shell/.test(e.remedy ?? ''),
    );
  });

  it('refuses a selector without =', () => {
    assert.throws(() => resolveResource('wmicimv2/Win32_Service?WinRM'), InvalidArgumentError);
  });
});

describe('@{...} values', () => {
  it('parses the seed form with quotes and spaces', () => {
    assert.deepEqual(parseHashtable('@{AllowUnencrypted="true"}'), { AllowUnencrypted: 'true' });
    assert.deepEqual(parseHashtable('@{Key="value"; Other="x"}'), { Key: 'value', Other: 'x' });
    assert.deepEqual(parseHashtable(' @{ A = "a b;c}" ;B=bare ; } '), { A: 'a b;c}', B: 'bare' });
  });

  it('parses @{} as no values and keeps an empty quoted value', () => {
    assert.deepEqual(parseHashtable('@{}'), {});
    assert.deepEqual(parseHashtable('@{ }'), {});
    assert.deepEqual(parseHashtable('@{CertificateThumbprint=""}'), { CertificateThumbprint: '' });
  });

  it('refuses malformed tables naming the fix', () => {
    for (const bad of ['{A="x"}', '@{A="x"', '@{A}', '@{A="x" B="y"}', '@{A="x;B=y}', '@{A="1";A="2"}']) {
      assert.throws(
        () => parseHashtable(bad),
        (e: unknown) => e instanceof InvalidArgumentError && /@\{Key="value"/.test(e.remedy ?? ''),
        bad,
      );
    }
  });

  it('accepts @{} text or a plain object wherever values go', () => {
    assert.deepEqual(resolveValues('@{Basic="false"}'), { Basic: 'false' });
    assert.deepEqual(resolveValues({ Basic: 'false' }), { Basic: 'false' });
    assert.deepEqual(resolveValues(undefined), {});
    assert.throws(
      () => resolveValues({ Basic: false } as unknown as Record<string, string>),
      InvalidArgumentError,
    );
    assert.throws(() => resolveValues({ 'Bad Name': 'x' }), InvalidArgumentError);
  });
});
