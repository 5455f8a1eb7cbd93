/** Typed instances from Windows-shaped Get / Pull answers: nil, arrays, embedded instances, cim:Datetime, XML kept. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parsePullResponse } from '../../src/wsman/actions/enumerate.ts';
import { parseGetResponse, type ResourceInstance } from '../../src/wsman/actions/transfer.ts';
import { parseResponse } from '../../src/wsman/response.ts';

const load = (name: string) =>
  parseResponse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)), {
    relatesTo: 'uuid:5F0C7A5E-2B5B-4C8E-9D5C-6D4F1E2A3B4C',
  });

describe('typed instances', () => {
  it('nests embedded instances (winrm/config Service/Auth) instead of flattening their text', () => {
    const cfg = parseGetResponse(load('get-config-response.xml'));
    const service = cfg.properties.Service as ResourceInstance;
    assert.equal(typeof service, 'object');
    assert.equal(service.className, 'Service');
    assert.equal((service.properties.Auth as ResourceInstance).properties.CbtHardeningLevel, 'Relaxed');
  });

  it('keeps xsi:nil as null, arrays in order, xsi:type, and the element XML', () => {
    const svc = parseGetResponse(load('get-win32-service-response.xml'));
    assert.equal(svc.properties.InstallDate, null);
    assert.equal(svc.xsiType, 'p:Win32_Service_Type');
    assert.ok(svc.xml.startsWith('<p:Win32_Service '));
    assert.ok(svc.xml.endsWith('</p:Win32_Service>'));
    const os = parseGetResponse(load('get-win32-os-response.xml'));
    assert.equal(os.properties.LastBootUpTime, '2026-12-01T08:15:02.500000Z');
    assert.deepEqual(os.properties.MUILanguages, ['en-US', 'de-DE']);
  });

  it('serializes to plain JSON: nested properties kept, no DOM node, no xml', () => {
    const cfg = parseGetResponse(load('get-config-response.xml'));
    const back = JSON.parse(JSON.stringify(cfg));
    assert.equal(back.className, 'Config');
    assert.equal(back.properties.Service.properties.Auth.properties.Basic, 'false');
    assert.equal(back.element, undefined);
    assert.equal(back.xml, undefined);
    assert.ok(cfg.element.localName === 'Config' && cfg.xml.startsWith('<cfg:Config '));
  });

  it('reads a final Pull page: items, EndOfSequence, no context', () => {
    const page = parsePullResponse(load('pull-listener-response.xml'));
    assert.equal(page.endOfSequence, true);
    assert.equal(page.context, undefined);
    assert.equal(page.items[0]!.properties.Transport, 'HTTPS');
  });
});
