/**
 * The mock's CIM provider: WMI's root/cimv2 classes under
 * `http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/<Class>` (and the `wmi/root/cimv2` form with a
 * `__cimnamespace` selector), as Windows' WMI plugin serves them ([MS-WSMV] 3.1.4.1.2 resource URIs for WMI).
 *
 * Instance form, from published Windows captures (pywinrm and WinRb WMI fixtures, `winrm get -format:pretty`):
 * `<p:Win32_Service xmlns:p="<class URI>" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"
 * xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="p:Win32_Service_Type" xml:lang="en-US">`, one
 * `<p:Prop>` per property in the class's (alphabetical) order, `xsi:nil="true"` for NULL, one element per array
 * item, datetimes wrapped in `<cim:Datetime>`. Invoke answers `<p:{Method}_OUTPUT xmlns:p="<class URI>">` with
 * `<p:ReturnValue>`.
 */
import { escapeXmlAttr, escapeXmlText } from '../../wsman/envelope.ts';
import { allChildElements, attr, type Element, textOf } from '../../wsman/xml.ts';
import { ResourceFaults } from '../resources/faults.ts';
import {
  DIALECTS,
  type EnumerationFilter,
  type MockResourceProvider,
  type ResourceAnswer,
  type ResourceRequest,
} from '../resources/types.ts';
import { buildClasses, type CimClass, type CimInstance, type CimMachine } from './classes.ts';
import { evaluate, parseWql, type WqlQuery, WqlSyntaxError } from './wql.ts';

const CIMV2 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2';
const WMI = 'http://schemas.microsoft.com/wbem/wsman/1/wmi';
const NS_CIM = 'http://schemas.dmtf.org/wbem/wscim/1/common';
const NS_XSI = 'http://www.w3.org/2001/XMLSchema-instance';
/** Selectors WMI accepts besides the keys. */
const NAMESPACE_SELECTOR = '__cimnamespace';
/** CIM datetime properties: written as `<cim:Datetime>` (Windows' WMI plugin does so for CIM_DATETIME). */
const DATETIME = new Set(['installdate', 'lastbootuptime']);

/**
 * Win32_Service method return codes (Learn, "StartService/StopService method of the Win32_Service class"):
 * 0 success, 2 access denied, 3 dependent services running, 5 the service cannot accept control, 6 the service
 * has not been started, 7 no response in time, 10 already running.
 */
export const SERVICE_RETURN = {
  success: 0,
  cannotAcceptControl: 5,
  notActive: 6,
  alreadyRunning: 10,
} as const;

function findProp(inst: CimInstance, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(inst).find((k) => k.toLowerCase() === lower);
}

export interface CimProviderOptions extends CimMachine {}

export class CimProvider implements MockResourceProvider {
  readonly name = 'cim';
  readonly dialects = [DIALECTS.wql, DIALECTS.selector] as const;
  private readonly classes: Map<string, CimClass>;

  constructor(opts: CimProviderOptions) {
    this.classes = buildClasses(opts);
  }

  serves(resourceUri: string): boolean {
    const u = resourceUri.toLowerCase();
    return u === WMI || u.startsWith(`${WMI}/`);
  }

  /** The class a URI names; a URI outside root/cimv2 or an unknown class is WMI's "invalid class". */
  private classOf(req: ResourceRequest, fromQuery?: string): CimClass {
    let uri = req.resourceUri.replace(/\/+$/, '');
    let name: string | undefined;
    if (uri.toLowerCase().startsWith(`${CIMV2.toLowerCase()}/`)) name = uri.slice(CIMV2.length + 1);
    else if (uri.toLowerCase() === CIMV2.toLowerCase() || uri.toLowerCase() === `${WMI}/root/cimv2/*`)
      name = fromQuery;
    else {
      // wmi/<namespace>/<Class>: only root/cimv2 exists in the mock.
      uri = uri.slice(WMI.length + 1);
      const ns = this.selector(req, NAMESPACE_SELECTOR);
      if (uri.toLowerCase().startsWith('root/cimv2/')) name = uri.slice('root/cimv2/'.length);
      else if (ns && ns.toLowerCase() === 'root/cimv2' && !uri.includes('/')) name = uri;
    }
    if (fromQuery && name && fromQuery.toLowerCase() !== name.toLowerCase() && name !== '*') {
      throw ResourceFaults.invalidQuery(); // the WQL FROM names another class than the URI
    }
    if (name === '*' && fromQuery) name = fromQuery;
    const cls = name ? this.classes.get(name.toLowerCase()) : undefined;
    if (!cls) throw ResourceFaults.invalidClass();
    return cls;
  }

  private selector(req: ResourceRequest, name: string): string | undefined {
    const k = Object.keys(req.selectors).find((s) => s.toLowerCase() === name.toLowerCase());
    return k === undefined ? undefined : req.selectors[k];
  }

  /** Instances the selectors pick; an unknown selector name faults (UnexpectedSelectors). */
  private pick(cls: CimClass, selectors: Readonly<Record<string, string>>): CimInstance[] {
    const entries = Object.entries(selectors).filter(([k]) => k.toLowerCase() !== NAMESPACE_SELECTOR);
    for (const [k] of entries) {
      if (!cls.keys.some((key) => key.toLowerCase() === k.toLowerCase()))
        throw ResourceFaults.unexpectedSelectors();
    }
    return cls.instances.filter((inst) =>
      entries.every(([k, v]) => {
        const p = findProp(inst, k);
        const value = p === undefined ? undefined : inst[p];
        return typeof value === 'string' && value.toLowerCase() === v.toLowerCase();
      }),
    );
  }

  private one(req: ResourceRequest): { cls: CimClass; inst: CimInstance } {
    const cls = this.classOf(req);
    const keyed = Object.keys(req.selectors).some((k) => k.toLowerCase() !== NAMESPACE_SELECTOR);
    const found = this.pick(cls, req.selectors);
    if (!keyed && cls.instances.length > 1) throw ResourceFaults.insufficientSelectors();
    if (found.length !== 1) throw ResourceFaults.noSuchInstance();
    return { cls, inst: found[0]! };
  }

  private answer(cls: CimClass, inst: CimInstance, lang: string, select?: readonly string[]): ResourceAnswer {
    const uri = `${CIMV2}/${cls.name}`;
    const names = select
      ? select.map((s) => {
          const p = findProp(inst, s);
          if (p === undefined) throw ResourceFaults.invalidQuery();
          return p;
        })
      : Object.keys(inst);
    let body = '';
    for (const n of names) {
      const v = inst[n]!;
      if (v === null) body += `<p:${n} xsi:nil="true"/>`;
      else if (Array.isArray(v)) for (const item of v) body += `<p:${n}>${escapeXmlText(item)}</p:${n}>`;
      else if (DATETIME.has(n.toLowerCase()))
        body += `<p:${n}><cim:Datetime>${escapeXmlText(v)}</cim:Datetime></p:${n}>`;
      else body += `<p:${n}>${escapeXmlText(v)}</p:${n}>`;
    }
    const xml =
      `<p:${cls.name} xmlns:p="${uri}" xmlns:cim="${NS_CIM}" xmlns:xsi="${NS_XSI}" ` +
      `xsi:type="p:${cls.name}_Type" xml:lang="${escapeXmlAttr(lang)}">${body}</p:${cls.name}>`;
    const selectors: Record<string, string> = {};
    for (const k of cls.keys) selectors[k] = String(inst[k] ?? '');
    return { xml, epr: { resourceUri: uri, selectors } };
  }

  get(req: ResourceRequest): ResourceAnswer {
    const { cls, inst } = this.one(req);
    return this.answer(cls, inst, req.lang);
  }

  put(req: ResourceRequest, body: Element): ResourceAnswer {
    const { cls, inst } = this.one(req);
    const changes: [string, string][] = [];
    for (const el of allChildElements(body)) {
      const p = findProp(inst, el.localName ?? '');
      if (p === undefined) throw ResourceFaults.readOnlyProperty(el.localName ?? '');
      const value = textOf(el);
      if (inst[p] === value) continue;
      if (!cls.writable.includes(p)) throw ResourceFaults.readOnlyProperty(p);
      changes.push([p, value]);
    }
    for (const [p, v] of changes) inst[p] = v;
    return this.answer(cls, inst, req.lang);
  }

  enumerate(req: ResourceRequest, filter: EnumerationFilter | undefined): ResourceAnswer[] {
    if (!filter) {
      const cls = this.classOf(req);
      return this.pick(cls, req.selectors).map((i) => this.answer(cls, i, req.lang));
    }
    if (filter.dialect === DIALECTS.selector) {
      const cls = this.classOf(req);
      const selectors: Record<string, string> = {};
      for (const set of allChildElements(filter.element)) {
        for (const s of allChildElements(set)) selectors[attr(s, 'Name') ?? ''] = textOf(s);
      }
      return this.pick(cls, selectors).map((i) => this.answer(cls, i, req.lang));
    }
    let q: WqlQuery;
    try {
      q = parseWql(filter.text);
    } catch (e) {
      if (e instanceof WqlSyntaxError) throw ResourceFaults.invalidQuery();
      throw e;
    }
    const cls = this.classOf(req, q.from);
    try {
      return cls.instances
        .filter((inst) =>
          q.where
            ? evaluate(q.where, (name) => {
                const p = findProp(inst, name);
                return p === undefined ? { found: false, value: null } : { found: true, value: inst[p]! };
              })
            : true,
        )
        .map((i) => this.answer(cls, i, req.lang, q.select));
    } catch (e) {
      if (e instanceof WqlSyntaxError) throw ResourceFaults.invalidQuery();
      throw e;
    }
  }

  invoke(req: ResourceRequest, method: string, _input: Element | undefined): ResourceAnswer {
    const cls = this.classOf(req);
    const m = cls.methods.find((x) => x.toLowerCase() === method.toLowerCase());
    if (!m) throw ResourceFaults.invalidMethod();
    const { inst } = this.one(req);
    let rv = 0;
    if (cls.name === 'Win32_Service' && (m === 'StartService' || m === 'StopService')) {
      rv = serviceControl(inst, m);
    }
    const uri = `${CIMV2}/${cls.name}`;
    return { xml: `<p:${m}_OUTPUT xmlns:p="${uri}"><p:ReturnValue>${rv}</p:ReturnValue></p:${m}_OUTPUT>` };
  }
}

/** StartService / StopService on a Win32_Service instance; returns the documented ReturnValue. */
function serviceControl(inst: CimInstance, method: 'StartService' | 'StopService'): number {
  const running = inst.State === 'Running';
  if (method === 'StartService') {
    if (running) return SERVICE_RETURN.alreadyRunning;
    inst.State = 'Running';
    inst.Started = 'true';
    inst.AcceptStop = 'true';
    inst.ExitCode = '0';
    inst.ProcessId = String(5000 + Math.floor(Math.random() * 4000) * 4);
    return SERVICE_RETURN.success;
  }
  // A stopped service: 6 "The service has not been started"; one that does not accept Stop (AcceptStop false):
  // 5 "The service cannot accept control messages at this time" (Learn, StopService return codes).
  if (!running) return SERVICE_RETURN.notActive;
  if (inst.AcceptStop !== 'true') return SERVICE_RETURN.cannotAcceptControl;
  inst.State = 'Stopped';
  inst.Started = 'false';
  inst.AcceptStop = 'false';
  inst.ProcessId = '0';
  inst.ExitCode = '0';
  return SERVICE_RETURN.success;
}
