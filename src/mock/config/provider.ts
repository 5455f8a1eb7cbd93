/**
 * The mock's `winrm/config` provider: config, service, service/auth, client, client/auth, winrs and listener,
 * showing the live settings, Put changing them, `Restore` bringing back Windows' defaults.
 *
 * Shapes. Element names and their order follow [MS-WSMV] 2.2.4.10 ConfigType (and ServiceType, ClientType,
 * WinrsType, ListenerType) as `winrm get winrm/config -format:pretty` prints them on Windows Server 2012+ (the
 * published output in Microsoft's "Installation and configuration for Windows Remote Management" page). Each
 * resource answers with its root element in the namespace equal to its resource URI under the `cfg` prefix
 * (`<cfg:Service xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config/service">`, as captures of Get
 * winrm/config/service show and test/wsman/golden.test.ts uses); the whole tree (`winrm/config`) nests every
 * section under `<cfg:Config xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config">` in that one
 * namespace. Windows adds `xml:lang` to the root element.
 */
import type { Element } from '../../wsman/xml.ts';
import { allChildElements, textOf } from '../../wsman/xml.ts';
import type { ResolvedOptions } from '../options.ts';
import { ResourceFaults } from '../resources/faults.ts';
import type { MockResourceProvider, ResourceAnswer, ResourceRequest } from '../resources/types.ts';
import { Faults, INVALID_SELECTORS_REASON, MockFault } from '../wire/faults.ts';
import { type ConfigListener, type LiveConfig, restoreDefaults } from './live.ts';

/** The config namespace and resource URI ([MS-WSMV] 2.2.1). */
export const CONFIG_URI = 'http://schemas.microsoft.com/wbem/wsman/1/config';

interface Property {
  name: string;
  get(s: ResolvedOptions): string;
  /** Absent: read-only in the mock (a Put naming it is refused). */
  set?(s: ResolvedOptions, value: string): void;
}

interface Section {
  /** Path under winrm/config, lower case ('' for the root). */
  path: string;
  element: string;
  properties: Property[];
  /** Sections nested in this one, in Windows' order. */
  children: string[];
}

const fixed = (name: string, value: string): Property => ({ name, get: () => value });

type NumericQuota = {
  [K in keyof ResolvedOptions['quotas']]: ResolvedOptions['quotas'][K] extends number ? K : never;
}[keyof ResolvedOptions['quotas']];

/** A writable quota: shown live, a Put checked as an unsigned integer of at least `min`. */
const quota = (name: string, key: NumericQuota, min: number): Property => ({
  name,
  get: (s) => String(s.quotas[key]),
  set: (s, v) => {
    s.quotas[key] = uint(name, v, min);
  },
});

function bool(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidValue(name, value);
}

function uint(name: string, value: string, min: number): number {
  const v = value.trim();
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > 4_294_967_295) throw invalidValue(name, value);
  return n;
}

function invalidValue(name: string, value: string): MockFault {
  // Windows answers a value outside a property's type or range with w:InvalidParameter (the winrm.cmd text
  // "The parameter is incorrect."); the message names the property.
  const f = Faults.invalidParameter();
  return new MockFault({
    ...f.spec,
    message: `The WS-Management service cannot process the request because the value "${value}" is invalid for ${name}. `,
  });
}

const SECTIONS: Section[] = [
  {
    path: '',
    element: 'Config',
    properties: [
      {
        name: 'MaxEnvelopeSizekb',
        get: (s) => String(Math.floor(s.maxEnvelopeSize / 1024)),
        // Minimum 32 KB (WSManDsc's MaxEnvelopeSizekb range, 32..4294967295).
        set: (s, v) => {
          s.maxEnvelopeSize = uint('MaxEnvelopeSizekb', v, 32) * 1024;
        },
      },
      {
        name: 'MaxTimeoutms',
        get: (s) => String(s.quotas.maxTimeoutMs),
        // Minimum 500 ms (WSManDsc's MaxTimeoutms range).
        set: (s, v) => {
          s.quotas.maxTimeoutMs = uint('MaxTimeoutms', v, 500);
        },
      },
      fixed('MaxBatchItems', '32000'),
      fixed('MaxProviderRequests', '4294967295'),
    ],
    children: ['client', 'service', 'winrs'],
  },
  {
    path: 'client',
    element: 'Client',
    properties: [
      fixed('NetworkDelayms', '5000'),
      fixed('URLPrefix', 'wsman'),
      fixed('AllowUnencrypted', 'false'),
    ],
    children: ['client/auth', 'client/defaultports', 'client/trustedhosts'],
  },
  {
    path: 'client/auth',
    element: 'Auth',
    properties: [
      fixed('Basic', 'true'),
      fixed('Digest', 'true'),
      fixed('Kerberos', 'true'),
      fixed('Negotiate', 'true'),
      fixed('Certificate', 'true'),
      fixed('CredSSP', 'false'),
    ],
    children: [],
  },
  {
    path: 'client/defaultports',
    element: 'DefaultPorts',
    properties: [fixed('HTTP', '5985'), fixed('HTTPS', '5986')],
    children: [],
  },
  { path: 'client/trustedhosts', element: 'TrustedHosts', properties: [], children: [] },
  {
    path: 'service',
    element: 'Service',
    properties: [
      fixed('RootSDDL', 'O:NSG:BAD:P(A;;GA;;;BA)(A;;GR;;;IU)S:P(AU;FA;GA;;;WD)(AU;SA;GXGW;;;WD)'),
      fixed('MaxConcurrentOperations', '4294967295'),
      quota('MaxConcurrentOperationsPerUser', 'maxConcurrentOperationsPerUser', 1),
      fixed('EnumerationTimeoutms', '240000'),
      fixed('MaxConnections', '300'),
      fixed('MaxPacketRetrievalTimeSeconds', '120'),
      {
        name: 'AllowUnencrypted',
        get: (s) => String(s.allowUnencrypted),
        set: (s, v) => {
          s.allowUnencrypted = bool('AllowUnencrypted', v);
        },
      },
    ],
    children: ['service/auth', 'service/defaultports', 'service/tail'],
  },
  {
    path: 'service/auth',
    element: 'Auth',
    properties: [
      {
        name: 'Basic',
        get: (s) => String(s.auth.basic),
        set: (s, v) => {
          s.auth.basic = bool('Basic', v);
        },
      },
      // True when the mock was given a keytab (auth.kerberos): then it accepts the Kerberos scheme.
      { name: 'Kerberos', get: (s) => String(s.auth.kerberos !== undefined) },
      {
        name: 'Negotiate',
        get: (s) => String(s.auth.negotiate),
        set: (s, v) => {
          s.auth.negotiate = bool('Negotiate', v);
        },
      },
      fixed('Certificate', 'false'),
      fixed('CredSSP', 'false'),
      {
        name: 'CbtHardeningLevel',
        get: (s) => (s.auth.channelBinding === 'strict' ? 'Strict' : 'Relaxed'),
      },
    ],
    children: [],
  },
  {
    path: 'service/defaultports',
    element: 'DefaultPorts',
    properties: [fixed('HTTP', '5985'), fixed('HTTPS', '5986')],
    children: [],
  },
  {
    // The properties Windows prints after DefaultPorts, in its order (not a resource of its own).
    path: 'service/tail',
    element: '',
    properties: [
      fixed('IPv4Filter', '*'),
      fixed('IPv6Filter', '*'),
      fixed('EnableCompatibilityHttpListener', 'false'),
      fixed('EnableCompatibilityHttpsListener', 'false'),
      fixed('CertificateThumbprint', ''),
      fixed('AllowRemoteAccess', 'true'),
    ],
    children: [],
  },
  {
    path: 'winrs',
    element: 'Winrs',
    properties: [
      fixed('AllowRemoteShellAccess', 'true'),
      quota('IdleTimeout', 'idleTimeoutMs', 60_000),
      fixed('MaxConcurrentUsers', '2147483647'),
      fixed('MaxShellRunTime', '2147483647'),
      fixed('MaxProcessesPerShell', '2147483647'),
      quota('MaxMemoryPerShellMB', 'maxMemoryPerShellMB', 1),
      quota('MaxShellsPerUser', 'maxShellsPerUser', 1),
    ],
    children: [],
  },
];

const byPath = new Map(SECTIONS.map((s) => [s.path, s]));
/** Resources a Get/Put may address (the 'tail' pseudo-section is not one). */
const ADDRESSABLE = SECTIONS.filter((s) => s.element !== '').map((s) => s.path);

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function writeSection(section: Section, s: ResolvedOptions): string {
  const props = section.properties.map((p) => {
    const v = p.get(s);
    return v === '' ? `<cfg:${p.name}></cfg:${p.name}>` : `<cfg:${p.name}>${esc(v)}</cfg:${p.name}>`;
  });
  const kids = section.children.map((c) => writeSection(byPath.get(c)!, s));
  const inner = props.join('') + kids.join('');
  return section.element === '' ? inner : `<cfg:${section.element}>${inner}</cfg:${section.element}>`;
}

function rootElement(section: Section, s: ResolvedOptions, lang: string): string {
  const ns = section.path === '' ? CONFIG_URI : `${CONFIG_URI}/${section.path}`;
  const body = writeSection(section, s);
  // Put the namespace and xml:lang on the outermost element.
  const open = `<cfg:${section.element}>`;
  return `<cfg:${section.element} xmlns:cfg="${ns}" xml:lang="${esc(lang)}">${body.slice(open.length)}`;
}

function writeListener(l: ConfigListener, lang: string): string {
  const p = (name: string, v: string) =>
    v === '' ? `<cfg:${name}></cfg:${name}>` : `<cfg:${name}>${esc(v)}</cfg:${name}>`;
  return (
    `<cfg:Listener xmlns:cfg="${CONFIG_URI}/listener" xml:lang="${esc(lang)}">` +
    p('Address', l.address) +
    p('Transport', l.transport) +
    p('Port', String(l.port)) +
    p('Hostname', l.hostname) +
    p('Enabled', 'true') +
    p('URLPrefix', l.urlPrefix) +
    p('CertificateThumbprint', l.certificateThumbprint) +
    l.listeningOn.map((a) => p('ListeningOn', a)).join('') +
    '</cfg:Listener>'
  );
}

/** The path under winrm/config (lower case), or undefined for a URI outside the tree. */
function pathOf(uri: string): string | undefined {
  const u = uri.split('?')[0]!.toLowerCase().replace(/\/+$/, '');
  const base = CONFIG_URI.toLowerCase();
  if (u === base) return '';
  if (u.startsWith(`${base}/`)) return u.slice(base.length + 1);
  return undefined;
}

/** w:InvalidSelectors as Windows answers a listener key that matches none ([MS-WSMAN] DSP0226 R7.1-9). */
function invalidSelectors(): MockFault {
  return new MockFault({
    code: 'Sender',
    subcode: 'w:InvalidSelectors',
    reason: INVALID_SELECTORS_REASON,
    faultDetail: 'UnexpectedSelectors',
  });
}

function selector(req: ResourceRequest, name: string): string | undefined {
  const key = Object.keys(req.selectors).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : req.selectors[key];
}

function findListener(live: LiveConfig, req: ResourceRequest): ConfigListener {
  const address = selector(req, 'Address');
  const transport = selector(req, 'Transport');
  if (address === undefined || transport === undefined) throw invalidSelectors();
  const l = live
    .listeners()
    .find(
      (x) => x.address.toLowerCase() === address.toLowerCase() && x.transport === transport.toUpperCase(),
    );
  if (!l) throw invalidSelectors();
  return l;
}

/** The Address and Transport selectors of a listener request, checked as Windows checks them. */
function listenerKey(req: ResourceRequest): { address: string; transport: 'HTTP' | 'HTTPS' } {
  const address = selector(req, 'Address');
  const transport = selector(req, 'Transport')?.toUpperCase();
  if (address === undefined || transport === undefined) throw invalidSelectors();
  // winerror.h ERROR_WSMAN_LISTENER_ADDRESS_INVALID: `*`, `IP:<ip_address>` or `MAC:<mac_address>`.
  if (address !== '*' && !/^(IP|MAC):\S+$/i.test(address)) throw ResourceFaults.listenerAddressInvalid();
  if (transport !== 'HTTP' && transport !== 'HTTPS') throw invalidValue('Transport', transport);
  return { address, transport };
}

/** Windows shows and compares thumbprints as upper-case hex; certlm's copy may carry blanks. */
function normalThumbprint(v: string): string {
  return v.replace(/[\s:]/g, '').toUpperCase();
}

/**
 * The values of a listener Create/Put body (`<cfg:Listener xmlns:cfg=".../config/listener">` as winrm.cmd
 * sends `@{Hostname="...";CertificateThumbprint="..."}`) applied to `base`: Hostname, CertificateThumbprint,
 * Port, URLPrefix. Others (Enabled, ListeningOn, ...) are refused with w:InvalidParameter.
 */
function listenerValues(
  body: Element,
  base: Omit<ConfigListener, 'listeningOn'>,
  thumbprint: string | undefined,
): Omit<ConfigListener, 'listeningOn'> {
  if (
    (body.localName ?? '').toLowerCase() !== 'listener' ||
    (body.namespaceURI ?? '').toLowerCase() !== `${CONFIG_URI}/listener`
  ) {
    throw Faults.schema();
  }
  const next = { ...base };
  for (const el of allChildElements(body)) {
    const name = (el.localName ?? '').toLowerCase();
    const v = textOf(el).trim();
    if (name === 'hostname') next.hostname = v;
    else if (name === 'certificatethumbprint') next.certificateThumbprint = normalThumbprint(v);
    else if (name === 'port') next.port = uint('Port', v, 1);
    else if (name === 'urlprefix') next.urlPrefix = v.replace(/^\/+|\/+$/g, '');
    else throw invalidValue(el.localName ?? '', v);
  }
  if (next.port > 65_535) throw invalidValue('Port', String(next.port));
  if (next.transport === 'HTTPS') {
    // An HTTPS listener needs a certificate of the machine: the mock has one, its own TLS certificate (none
    // without TLS). Without a thumbprint Windows picks the machine's matching certificate; a thumbprint of
    // another certificate is ERROR_WSMAN_CERT_NOT_FOUND.
    if (next.certificateThumbprint === '' && thumbprint !== undefined)
      next.certificateThumbprint = thumbprint;
    if (thumbprint === undefined || next.certificateThumbprint !== thumbprint) {
      throw ResourceFaults.certificateNotFound();
    }
  } else if (next.certificateThumbprint !== '') {
    // An HTTP listener has no certificate.
    throw invalidValue('CertificateThumbprint', next.certificateThumbprint);
  }
  return next;
}

function sectionFor(req: ResourceRequest): Section {
  const path = pathOf(req.resourceUri);
  if (path === undefined || !ADDRESSABLE.includes(path)) throw Faults.resourceNotFound();
  return byPath.get(path)!;
}

/**
 * The `winrm/config` provider over the live settings. Put accepts the writable properties of the addressed
 * section (a subset is fine, as `winrm set ... @{Name="value"}` sends); read-only or unknown properties and
 * values out of range are refused with w:InvalidParameter and nothing changes.
 */
export function configProvider(live: LiveConfig): MockResourceProvider {
  const s = live.settings;
  return {
    name: 'config',
    serves: (uri) => pathOf(uri) !== undefined,
    get(req): ResourceAnswer {
      if (req.fragment !== undefined) throw ResourceFaults.fragmentUnsupported();
      if (pathOf(req.resourceUri) === 'listener') {
        const l = findListener(live, req);
        return { xml: writeListener(l, req.lang), epr: listenerEpr(l) };
      }
      return { xml: rootElement(sectionFor(req), s, req.lang) };
    },
    put(req, body: Element): ResourceAnswer {
      // Fragments are a CIM/WMI feature on Windows ([MS-WSMV] 3.1.4.1.18); wslput -fragment lands here.
      if (req.fragment !== undefined) throw ResourceFaults.fragmentUnsupported();
      if (pathOf(req.resourceUri) === 'listener') {
        // `winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{CertificateThumbprint="..."}`
        const table = live.listenerTable;
        if (!table) throw Faults.actionNotSupported();
        const { address, transport } = listenerKey(req);
        const i = table.indexOf(address, transport);
        if (i < 0) throw invalidSelectors();
        const current = live.listeners()[i]!;
        const next = listenerValues(body, current, table.certificateThumbprint());
        table.replace(i, next);
        const l = live.listeners()[i]!;
        return { xml: writeListener(l, req.lang), epr: listenerEpr(l) };
      }
      const section = sectionFor(req);
      // The body is the resource's own element in its namespace (DSP0226 7.5: Put carries the representation).
      const ns = section.path === '' ? CONFIG_URI : `${CONFIG_URI}/${section.path}`;
      if (
        body.localName !== section.element ||
        (body.namespaceURI ?? '').toLowerCase() !== ns.toLowerCase()
      ) {
        throw Faults.schema();
      }
      const writable = new Map<string, Property>();
      const collect = (sec: Section) => {
        for (const p of sec.properties) writable.set(p.name.toLowerCase(), p);
        for (const c of sec.children) if (byPath.get(c)!.element === '') collect(byPath.get(c)!);
      };
      collect(section);
      // Check every value first, then apply: a refused Put changes nothing.
      const scratch = structuredClone({ ...s, commandHost: undefined }) as unknown as ResolvedOptions;
      const changes: Array<[Property, string]> = [];
      for (const el of allChildElements(body)) {
        const p = writable.get((el.localName ?? '').toLowerCase());
        if (!p?.set) throw invalidValue(el.localName ?? '', textOf(el));
        p.set(scratch, textOf(el));
        changes.push([p, textOf(el)]);
      }
      for (const [p, v] of changes) p.set!(s, v);
      return { xml: rootElement(section, s, req.lang) };
    },
    enumerate(req): ResourceAnswer[] {
      const path = pathOf(req.resourceUri);
      if (path === 'listener') {
        return live.listeners().map((l) => ({ xml: writeListener(l, req.lang), epr: listenerEpr(l) }));
      }
      // A section is a singleton: its EPR is the resource URI alone, without a w:SelectorSet (DSP0226 5.1.2:
      // selectors identify an instance among several; a singleton needs none).
      const section = sectionFor(req);
      const uri = section.path === '' ? CONFIG_URI : `${CONFIG_URI}/${section.path}`;
      return [{ xml: rootElement(section, s, req.lang), epr: { resourceUri: uri, selectors: {} } }];
    },
    create(req, body: Element): ResourceAnswer {
      // `winrm create winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname="...";CertificateThumbprint="..."}`
      if (pathOf(req.resourceUri) !== 'listener' || !live.listenerTable) throw Faults.actionNotSupported();
      const table = live.listenerTable;
      const { address, transport } = listenerKey(req);
      if (table.indexOf(address, transport) >= 0) throw ResourceFaults.alreadyExists();
      const l = listenerValues(
        body,
        {
          address,
          transport,
          port: transport === 'HTTPS' ? 5986 : 5985,
          hostname: '',
          urlPrefix: 'wsman',
          certificateThumbprint: '',
        },
        table.certificateThumbprint(),
      );
      table.add(l);
      return { xml: writeListener(live.listeners().at(-1)!, req.lang), epr: listenerEpr(l) };
    },
    delete(req): void {
      // `winrm delete winrm/config/Listener?Address=*+Transport=HTTP`
      if (pathOf(req.resourceUri) !== 'listener' || !live.listenerTable) throw Faults.actionNotSupported();
      const { address, transport } = listenerKey(req);
      const i = live.listenerTable.indexOf(address, transport);
      if (i < 0) throw invalidSelectors();
      live.listenerTable.remove(i);
    },
    invoke(req, method): ResourceAnswer {
      // `winrm invoke Restore winrm/Config @{}`: the custom action Restore on the root resource.
      if (pathOf(req.resourceUri) !== '' || method.toLowerCase() !== 'restore')
        throw Faults.actionNotSupported();
      restoreDefaults(s);
      live.listenerTable?.clear();
      return { xml: `<cfg:Restore_OUTPUT xmlns:cfg="${CONFIG_URI}" xml:lang="${esc(req.lang)}"/>` };
    },
  };
}

function listenerEpr(l: Pick<ConfigListener, 'address' | 'transport'>): ResourceAnswer['epr'] {
  // The resource URI as Windows writes it in the EPR (test/fixtures/create-listener-response.xml).
  return { resourceUri: `${CONFIG_URI}/listener`, selectors: { Address: l.address, Transport: l.transport } };
}
