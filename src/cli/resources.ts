/**
 * `winrm.cmd`'s resource verbs: `id`, `get` (`g`), `set` (`s`), `enumerate` (`e`), `invoke` (`i`), `create` (`c`),
 * `delete` (`d`), with the connection flags of the other commands and `--format text | xml | pretty | json`.
 * The text format is laid out as winrm.cmd lays it out: the class name, then `Name = value` lines indented four
 * blanks per level, an embedded instance as its name with its properties one level deeper, a CIM array as the
 * name repeated, and `[null]` for xsi:nil.
 */
import { connect } from '../connect.ts';
import type { WinRmInternalConnection } from '../winrm/connection.ts';
import type { IdentifyResult } from '../wsman/actions/identify.ts';
import type { ResourceInstance } from '../wsman/actions/transfer.ts';
import { bindCancel, closeAfter } from './cancel.ts';
import { CONNECTION_USAGE, parseCli, toConnectionOptions, UsageError } from './options.ts';

export const RESOURCE_USAGE = `  id [connection flags]             authenticated Identify (winrm id)
  get|g RESOURCE [--fragment P]     winrm get wmicimv2/Win32_Service?Name=WinRM
  set|s RESOURCE @{Name="value"}    winrm set winrm/config/service @{AllowUnencrypted="true"}
  enumerate|e RESOURCE [--filter WQL] [--dialect WQL|Selector|URI]
  invoke|i METHOD RESOURCE [@{...}] winrm invoke StartService wmicimv2/Win32_Service?Name=w32time @{}
  create|c RESOURCE @{...}          delete|d RESOURCE
                     resource verbs print --format text (as winrm.cmd), xml, pretty or json (default text)`;

const VERBS: Record<string, 'id' | 'get' | 'set' | 'enumerate' | 'invoke' | 'create' | 'delete'> = {
  id: 'id',
  identify: 'id',
  get: 'get',
  g: 'get',
  set: 'set',
  s: 'set',
  put: 'set',
  enumerate: 'enumerate',
  e: 'enumerate',
  invoke: 'invoke',
  i: 'invoke',
  create: 'create',
  c: 'create',
  delete: 'delete',
  d: 'delete',
};

/** True when `command` is one of the resource verbs. */
export function isResourceVerb(command: string | undefined): boolean {
  return command !== undefined && Object.hasOwn(VERBS, command);
}

export type OutputFormat = 'text' | 'xml' | 'pretty' | 'json';
const FORMATS: readonly OutputFormat[] = ['text', 'xml', 'pretty', 'json'];

interface ResourceIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** One instance as winrm.cmd's text output lays it out. */
export function instanceText(inst: ResourceInstance, depth = 0): string {
  const pad = (n: number) => ' '.repeat(4 * n);
  const lines = [`${pad(depth)}${inst.className}`];
  for (const [name, value] of Object.entries(inst.properties)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === null) lines.push(`${pad(depth + 1)}${name} = [null]`);
      else if (typeof v === 'string') lines.push(`${pad(depth + 1)}${name} = ${v}`);
      else lines.push(instanceText({ ...v, className: name }, depth + 1));
    }
  }
  return lines.join('\n');
}

/** Indented XML: one element per line (text-only elements stay on their line). */
export function prettyXml(xml: string): string {
  const tokens = xml.replace(/>\s*</g, '><').split(/(?=<)|(?<=>)/);
  const out: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.startsWith('</')) {
      depth--;
      out.push(`${'  '.repeat(depth)}${t}`);
    } else if (t.startsWith('<') && !t.endsWith('/>') && !t.startsWith('<?')) {
      const text = tokens[i + 1];
      const close = tokens[i + 2];
      if (text !== undefined && !text.startsWith('<') && close?.startsWith('</')) {
        out.push(`${'  '.repeat(depth)}${t}${text}${close}`);
        i += 2;
      } else {
        out.push(`${'  '.repeat(depth)}${t}`);
        depth++;
      }
    } else if (t.length > 0) out.push(`${'  '.repeat(depth)}${t}`);
  }
  return out.join('\n');
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function plain(inst: ResourceInstance): unknown {
  return JSON.parse(JSON.stringify(inst));
}

function render(items: readonly ResourceInstance[], format: OutputFormat, many: boolean): string {
  if (format === 'json') return JSON.stringify(many ? items.map(plain) : plain(items[0]!), null, 2);
  if (format === 'xml') return items.map((i) => i.xml).join('\n');
  if (format === 'pretty') return items.map((i) => prettyXml(i.xml)).join('\n');
  return items.map((i) => instanceText(i)).join('\n\n');
}

/** Run one resource verb; returns the exit code. */
export async function runResourceCli(command: string, argv: string[], io: ResourceIo): Promise<number> {
  const verb = VERBS[command]!;
  const { values, positionals } = parseCli(argv, {
    format: { type: 'string', short: 'f' },
    fragment: { type: 'string' },
    filter: { type: 'string' },
    dialect: { type: 'string' },
  });
  if (values.help) {
    io.stdout.write(`Usage:\n${RESOURCE_USAGE}\n\n${CONNECTION_USAGE}\n`);
    return 0;
  }
  const format = (values.format ?? 'text') as OutputFormat;
  if (!FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  }
  const need = { id: 0, get: 1, set: 2, enumerate: 1, invoke: 2, create: 2, delete: 1 }[verb];
  if (positionals.length < need) {
    throw new UsageError(
      `${command} needs ${need === 1 ? 'a RESOURCE' : verb === 'invoke' ? 'METHOD RESOURCE' : 'RESOURCE @{...}'}`,
    );
  }
  const { timeoutMs, ...options } = toConnectionOptions(values, io.env);
  const conn = (await connect(options)) as WinRmInternalConnection;
  if (typeof conn.get !== 'function') {
    await conn.close();
    throw new UsageError('resource verbs need the WinRM-internal connection type (--type internal)');
  }
  const release = bindCancel(conn, io.signal);
  const call = { signal: io.signal, timeout: timeoutMs };
  let failed = true;
  try {
    const [a, b, c] = positionals as [string, string | undefined, string | undefined];
    let out: string;
    switch (verb) {
      case 'id': {
        const id = await conn.identify(call);
        out = format === 'json' ? JSON.stringify(id, null, 2) : identifyText(id);
        break;
      }
      case 'get':
        out = render([await conn.get(a, { ...call, fragment: str(values.fragment) })], format, false);
        break;
      case 'set':
        out = render([(await conn.put(a, b!, call))!].filter(Boolean), format, false);
        break;
      case 'enumerate': {
        const items: ResourceInstance[] = [];
        for await (const i of conn.enumerate(a, {
          ...call,
          filter: str(values.filter),
          dialect: str(values.dialect),
        })) {
          items.push(i);
        }
        out = render(items, format, true);
        break;
      }
      case 'invoke':
        out = render([await conn.invoke(b!, a, c ?? '@{}', call)], format, false);
        break;
      case 'create':
        out = JSON.stringify(await conn.create(a, b!, call), null, 2);
        break;
      case 'delete':
        await conn.delete(a, call);
        out = '';
        break;
    }
    if (out) io.stdout.write(`${out}\n`);
    failed = false;
    return 0;
  } finally {
    release();
    await closeAfter(conn, failed, io.stderr);
  }
}

/** `winrm id`'s layout. */
function identifyText(id: IdentifyResult): string {
  const lines = [
    'IdentifyResponse',
    `    ProtocolVersion = ${id.protocolVersion}`,
    `    ProductVendor = ${id.productVendor}`,
    `    ProductVersion = ${id.productVersion}`,
  ];
  if (id.securityProfiles.length > 0) {
    lines.push('    SecurityProfiles');
    for (const p of id.securityProfiles) lines.push(`        SecurityProfileName = ${p}`);
  }
  return lines.join('\n');
}
