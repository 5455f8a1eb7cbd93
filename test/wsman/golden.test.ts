/**
 * Golden tests: each action's request compared semantically (namespace-aware, prefix-agnostic) with XML written
 * from the [MS-WSMV] 4.7 protocol examples. Prefixes in the expected XML differ from ours on purpose.
 */
import { describe, it } from 'node:test';
import {
  buildCommand,
  buildCreateShell,
  buildDeleteShell,
  buildEnumerate,
  buildGet,
  buildIdentify,
  buildInvoke,
  buildPull,
  buildPut,
  buildReceive,
  buildSend,
  buildSignal,
  type RequestContext,
} from '../../src/wsman/index.ts';
import { assertXmlEqual } from '../helpers/xml.ts';

const ctx: RequestContext = {
  to: 'http://server:5985/wsman',
  messageId: 'uuid:0AB58087-C2C3-0005-0000-000000010000',
  maxEnvelopeSize: 153600,
  operationTimeout: 60,
};
const SHELL = '0A6B5C7D-1E2F-4A3B-8C9D-0E1F2A3B4C5D';
const CMD = '9B8A7C6D-5E4F-4A3B-9C2D-1E0F9A8B7C6D';

const NSDECL = `xmlns:env="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
  xmlns:msw="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
  xmlns:shell="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
  xmlns:xfer="http://schemas.xmlsoap.org/ws/2004/09/transfer"
  xmlns:wsen="http://schemas.xmlsoap.org/ws/2004/09/enumeration"
  xmlns:cim="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`;

function header(action: string, resourceUri: string | undefined, extra = '', timeout = 'PT60S'): string {
  return `<env:Header>
    <wsa:To>http://server:5985/wsman</wsa:To>
    <wsa:ReplyTo><wsa:Address env:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>
    <wsa:Action env:mustUnderstand="true">${action}</wsa:Action>
    <wsman:MaxEnvelopeSize env:mustUnderstand="true">153600</wsman:MaxEnvelopeSize>
    <wsa:MessageID>uuid:0AB58087-C2C3-0005-0000-000000010000</wsa:MessageID>
    <wsman:Locale env:mustUnderstand="false" xml:lang="en-US"/>
    <msw:DataLocale env:mustUnderstand="false" xml:lang="en-US"/>
    <wsman:OperationTimeout>${timeout}</wsman:OperationTimeout>
    ${resourceUri ? `<wsman:ResourceURI env:mustUnderstand="true">${resourceUri}</wsman:ResourceURI>` : ''}
    ${extra}
  </env:Header>`;
}
const env = (h: string, body: string) =>
  `<env:Envelope ${NSDECL}>${h}<env:Body>${body}</env:Body></env:Envelope>`;
const CMD_URI = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd';
const SHELL_NS = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell';
const shellSel = `<wsman:SelectorSet><wsman:Selector Name="ShellId">${SHELL}</wsman:Selector></wsman:SelectorSet>`;

describe('request envelopes match the MS-WSMV 4.7 examples', () => {
  it('Create shell (4.7.1)', () => {
    const xml = buildCreateShell(ctx, {
      codepage: 437,
      noProfile: false,
      workingDirectory: 'C:\\Users',
      environment: { PATH: 'C:\\Windows' },
      idleTimeout: 180,
    });
    assertXmlEqual(
      xml,
      env(
        header(
          'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create',
          CMD_URI,
          `<wsman:OptionSet env:mustUnderstand="true">
             <wsman:Option Name="WINRS_NOPROFILE">FALSE</wsman:Option>
             <wsman:Option Name="WINRS_CODEPAGE">437</wsman:Option>
           </wsman:OptionSet>`,
        ),
        `<shell:Shell>
           <shell:WorkingDirectory>C:\\Users</shell:WorkingDirectory>
           <shell:Environment><shell:Variable Name="PATH">C:\\Windows</shell:Variable></shell:Environment>
           <shell:IdleTimeOut>PT180S</shell:IdleTimeOut>
           <shell:InputStreams>stdin</shell:InputStreams>
           <shell:OutputStreams>stdout stderr</shell:OutputStreams>
         </shell:Shell>`,
      ),
    );
  });

  it('Command (4.7.3) with XML-escaped command and arguments', () => {
    const xml = buildCommand(ctx, { shellId: SHELL, command: 'echo', args: ['a & b', '<c>', '"d"'] });
    assertXmlEqual(
      xml,
      env(
        header(
          `${SHELL_NS}/Command`,
          CMD_URI,
          `${shellSel}<wsman:OptionSet>
             <wsman:Option Name="WINRS_CONSOLEMODE_STDIN">TRUE</wsman:Option>
             <wsman:Option Name="WINRS_SKIP_CMD_SHELL">FALSE</wsman:Option>
           </wsman:OptionSet>`,
        ),
        `<shell:CommandLine><shell:Command>echo</shell:Command>
           <shell:Arguments>a &amp; b</shell:Arguments><shell:Arguments>&lt;c&gt;</shell:Arguments>
           <shell:Arguments>"d"</shell:Arguments></shell:CommandLine>`,
      ),
    );
  });

  it('Send (4.7.4) with End="true"', () => {
    const xml = buildSend(ctx, { shellId: SHELL, commandId: CMD, data: Buffer.from('dir\r\n'), end: true });
    assertXmlEqual(
      xml,
      env(
        header(`${SHELL_NS}/Send`, CMD_URI, shellSel),
        `<shell:Send><shell:Stream Name="stdin" CommandId="${CMD}" End="true">ZGlyDQo=</shell:Stream></shell:Send>`,
      ),
    );
  });

  it('Receive (4.7.5) with DesiredStream and CommandId', () => {
    const xml = buildReceive(ctx, { shellId: SHELL, commandId: CMD });
    assertXmlEqual(
      xml,
      env(
        header(
          `${SHELL_NS}/Receive`,
          CMD_URI,
          `${shellSel}<wsman:OptionSet><wsman:Option Name="WSMAN_CMDSHELL_OPTION_KEEPALIVE">TRUE</wsman:Option></wsman:OptionSet>`,
        ),
        `<shell:Receive><shell:DesiredStream CommandId="${CMD}">stdout stderr</shell:DesiredStream></shell:Receive>`,
      ),
    );
  });

  it('Signal terminate (4.7.6)', () => {
    const xml = buildSignal(ctx, { shellId: SHELL, commandId: CMD });
    assertXmlEqual(
      xml,
      env(
        header(`${SHELL_NS}/Signal`, CMD_URI, shellSel),
        `<shell:Signal CommandId="${CMD}"><shell:Code>${SHELL_NS}/signal/terminate</shell:Code></shell:Signal>`,
      ),
    );
  });

  it('Signal ctrl_c', () => {
    const xml = buildSignal(ctx, { shellId: SHELL, commandId: CMD, signal: 'ctrl_c' });
    assertXmlEqual(
      xml,
      env(
        header(`${SHELL_NS}/Signal`, CMD_URI, shellSel),
        `<shell:Signal CommandId="${CMD}"><shell:Code>${SHELL_NS}/signal/ctrl_c</shell:Code></shell:Signal>`,
      ),
    );
  });

  it('Delete shell (4.7.2)', () => {
    const xml = buildDeleteShell(ctx, { shellId: SHELL });
    assertXmlEqual(
      xml,
      env(header('http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete', CMD_URI, shellSel), ''),
    );
  });

  it('Identify (DSP0226 11)', () => {
    assertXmlEqual(
      buildIdentify(),
      `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"
          xmlns:id="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">
         <e:Header/><e:Body><id:Identify/></e:Body></e:Envelope>`,
    );
  });

  const svc = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service';
  it('Get with a selector (winrm get wmicimv2/Win32_Service?Name=WinRM)', () => {
    const xml = buildGet(ctx, { resourceUri: svc, selectors: { Name: 'WinRM' } });
    assertXmlEqual(
      xml,
      env(
        header(
          'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get',
          svc,
          '<wsman:SelectorSet><wsman:Selector Name="Name">WinRM</wsman:Selector></wsman:SelectorSet>',
        ),
        '',
      ),
    );
  });

  it('Put of config properties', () => {
    const cfg = 'http://schemas.microsoft.com/wbem/wsman/1/config/service';
    const xml = buildPut(ctx, {
      resourceUri: cfg,
      className: 'Service',
      properties: { AllowUnencrypted: 'true' },
    });
    assertXmlEqual(
      xml,
      env(
        header('http://schemas.xmlsoap.org/ws/2004/09/transfer/Put', cfg),
        `<c:Service xmlns:c="${cfg}"><c:AllowUnencrypted>true</c:AllowUnencrypted></c:Service>`,
      ),
    );
  });

  it('Enumerate with a WQL filter, then Pull', () => {
    const cs = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*';
    const xml = buildEnumerate(ctx, { resourceUri: cs, wql: 'SELECT * FROM Win32_Service', maxElements: 10 });
    assertXmlEqual(
      xml,
      env(
        header('http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate', cs),
        `<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>10</wsman:MaxElements>
           <wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">SELECT * FROM Win32_Service</wsman:Filter>
         </wsen:Enumerate>`,
      ),
    );
    const pull = buildPull(ctx, { resourceUri: cs, context: 'uuid:CTX' });
    assertXmlEqual(
      pull,
      env(
        header('http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull', cs),
        '<wsen:Pull><wsen:EnumerationContext>uuid:CTX</wsen:EnumerationContext><wsen:MaxElements>32000</wsen:MaxElements></wsen:Pull>',
      ),
    );
  });

  it('Invoke StartService (seed 001: winrm invoke StartService wmicimv2/Win32_Service?Name=WinRM)', () => {
    const xml = buildInvoke(ctx, { resourceUri: svc, method: 'StartService', selectors: { Name: 'WinRM' } });
    assertXmlEqual(
      xml,
      env(
        header(
          `${svc}/StartService`,
          svc,
          '<wsman:SelectorSet><wsman:Selector Name="Name">WinRM</wsman:Selector></wsman:SelectorSet>',
        ),
        `<q:StartService_INPUT xmlns:q="${svc}"/>`,
      ),
    );
  });
});
