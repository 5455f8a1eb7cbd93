import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DebugLog } from '../src/debug.ts';

describe('debug log redaction', () => {
  it('masks Authorization headers and registered secrets in every form', () => {
    const lines: string[] = [];
    const log = new DebugLog((ns, m) => lines.push(`${ns} ${m}`));
    log.addSecret('Hunter2!');
    log.log('http', 'Authorization: Basic dXNlcjpIdW50ZXIyIQ== next');
    log.log('wsman', 'echo Hunter2! and SHVudGVyMiE in base64');
    const all = lines.join('\n');
    assert.doesNotMatch(all, /Hunter2|dXNlcjpIdW50ZXIyIQ|SHVudGVyMiE/);
    assert.match(all, /Authorization: Basic \[redacted\]/);
  });
  it('is silent without a logger or DEBUG', () => {
    const saved = process.env.DEBUG;
    delete process.env.DEBUG;
    const log = new DebugLog();
    assert.equal(log.enabled('wsman'), false);
    process.env.DEBUG = 'winrm-connection:*';
    assert.equal(log.enabled('wsman'), true);
    if (saved === undefined) delete process.env.DEBUG;
    else process.env.DEBUG = saved;
  });
});
