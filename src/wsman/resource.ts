/**
 * Resources as `winrm.cmd` writes them: `wmicimv2/Win32_Service?Name=WinRM`,
 * `winrm/config/Listener?Address=*+Transport=HTTPS`, full URIs, and the `@{Key="value"; Other="x"}` hashtable
 * syntax for values. Pure functions: no I/O.
 */
import { InvalidArgumentError } from '../errors.ts';

/**
 * The URI prefix aliases `winrm help uris` lists (winrm.vbs, Windows 7 and later). `winrm` and `wsman` both stand
 * for Microsoft's WS-Man root (so `winrm/config` is `http://schemas.microsoft.com/wbem/wsman/1/config`); `cimv2`
 * is the DMTF CIM 2.9 schema prefix (learn.microsoft.com "URI prefixes"). Matched case-insensitively, as
 * winrm.cmd does (`winrm/Config` in the seed).
 */
export const RESOURCE_ALIASES: Readonly<Record<string, string>> = {
  wmi: 'http://schemas.microsoft.com/wbem/wsman/1/wmi',
  wmicimv2: 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2',
  cimv2: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2',
  winrm: 'http://schemas.microsoft.com/wbem/wsman/1',
  wsman: 'http://schemas.microsoft.com/wbem/wsman/1',
  shell: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
};

/** A property name: an XML NCName, since it becomes an element name. */
const PROPERTY_NAME = /^[A-Za-z_][\w.-]*$/;

/** A resource URI plus its selectors (the w:SelectorSet). */
export interface ResolvedResource {
  resourceUri: string;
  selectors: Record<string, string>;
}

/** A resource as callers write it: `alias/path?K=v+K2=v2`, a full URI, or a URI (or alias form) with selectors. */
export type ResourceSpec =
  | string
  | { readonly resourceUri: string; readonly selectors?: Readonly<Record<string, string>> };

/** Property values as callers write them: a plain object, or winrm.cmd's `@{Key="value"}` text. */
export type ResourceValues = string | Readonly<Record<string, string>>;

function badResource(message: string, remedy: string): never {
  throw new InvalidArgumentError(message, { argument: 'resource', remedy });
}

/** Expand an alias (`wmicimv2/Win32_Service`) or keep a full URI; no selectors. */
export function expandResourceUri(text: string): string {
  const uri = text.trim();
  if (uri === '')
    badResource('The resource is empty', 'name one, e.g. wmicimv2/Win32_Service or winrm/config');
  if (/^https?:\/\//i.test(uri)) return uri;
  const slash = uri.indexOf('/');
  const alias = (slash < 0 ? uri : uri.slice(0, slash)).toLowerCase();
  const prefix = RESOURCE_ALIASES[alias];
  if (prefix === undefined) {
    badResource(
      `Unknown resource alias "${alias}" in "${uri}"`,
      `write a full URI (http://...) or start with one of the aliases of winrm help uris: ${Object.keys(RESOURCE_ALIASES).join(', ')}`,
    );
  }
  return slash < 0 ? prefix : `${prefix}${uri.slice(slash)}`;
}

/**
 * Selectors in winrm.cmd's form: `Name=WinRM` or `Address=*+Transport=HTTPS` (`+` between pairs). Values are
 * taken verbatim (winrm.cmd does no URL decoding); a name given twice is refused.
 */
export function parseSelectorText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === '') return out;
  for (const pair of text.split('+')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (!name) {
      badResource(
        `The selector "${pair}" is not Name=value`,
        'write selectors as winrm.cmd does: resource?Name=value+Other=value',
      );
    }
    if (Object.hasOwn(out, name))
      badResource(`The selector "${name}" is given twice`, 'give each selector once');
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/** Turn a {@link ResourceSpec} into a resource URI and selectors; object selectors win over `?` ones. */
export function resolveResource(spec: ResourceSpec): ResolvedResource {
  if (typeof spec === 'string') return splitResource(spec);
  if (spec === null || typeof spec !== 'object' || typeof spec.resourceUri !== 'string') {
    badResource(
      'A resource must be a string or { resourceUri, selectors }',
      'pass e.g. "wmicimv2/Win32_Service?Name=WinRM"',
    );
  }
  const base = splitResource(spec.resourceUri);
  for (const [k, v] of Object.entries(spec.selectors ?? {})) {
    if (typeof v !== 'string')
      badResource(`The selector "${k}" is not a string`, 'give selector values as strings');
    base.selectors[k] = v;
  }
  return base;
}

function splitResource(text: string): ResolvedResource {
  const q = text.indexOf('?');
  const uriPart = q < 0 ? text : text.slice(0, q);
  return {
    resourceUri: expandResourceUri(uriPart),
    selectors: q < 0 ? {} : parseSelectorText(text.slice(q + 1)),
  };
}

function badHash(text: string, why: string): never {
  throw new InvalidArgumentError(`The values ${JSON.stringify(text)} are not a valid @{...} table: ${why}`, {
    argument: 'values',
    remedy:
      'write them as winrm.cmd does: @{Key="value"; Other="x"} (or @{} for none), or pass a plain object',
  });
}

/**
 * Parse winrm.cmd's hashtable syntax: `@{Key="value"; Other="x"}`, `@{}` for none. Pairs are separated by `;`,
 * whitespace around names, `=` and `;` is ignored. A value is either double-quoted (it runs to the next `"`, so
 * it may hold `;`, `}`, `=` and spaces; there is no escape, as in winrm.vbs) or bare (up to the next `;` or `}`,
 * trimmed). A name given twice is refused.
 */
export function parseHashtable(text: string): Record<string, string> {
  const s = text.trim();
  if (!s.startsWith('@{') || !s.endsWith('}')) badHash(text, 'it must start with @{ and end with }');
  const out: Record<string, string> = {};
  let i = 2;
  const end = s.length - 1;
  const skipSpace = () => {
    while (i < end && /\s/.test(s[i]!)) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= end) break;
    const eq = s.indexOf('=', i);
    if (eq < 0 || eq >= end) badHash(text, `"${s.slice(i, end).trim()}" has no =`);
    const name = s.slice(i, eq).trim();
    if (!PROPERTY_NAME.test(name)) badHash(text, `"${name}" is not a property name`);
    if (Object.hasOwn(out, name)) badHash(text, `"${name}" is given twice`);
    i = eq + 1;
    skipSpace();
    let value: string;
    if (s[i] === '"') {
      const close = s.indexOf('"', i + 1);
      if (close < 0 || close >= end) badHash(text, `the value of "${name}" has no closing quote`);
      value = s.slice(i + 1, close);
      i = close + 1;
      skipSpace();
      if (i < end && s[i] !== ';') badHash(text, `expected ; after the value of "${name}"`);
    } else {
      const semi = s.indexOf(';', i);
      const stop = semi < 0 || semi > end ? end : semi;
      value = s.slice(i, stop).trim();
      i = stop;
    }
    out[name] = value;
    if (s[i] === ';') i++;
  }
  return out;
}

/** Values as a plain object: an object is checked (string values only), a string is parsed as `@{...}`. */
export function resolveValues(values: ResourceValues | undefined): Record<string, string> {
  if (values === undefined) return {};
  if (typeof values === 'string') return parseHashtable(values);
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new InvalidArgumentError('Values must be a plain object or @{Key="value"} text', {
      argument: 'values',
      remedy: 'pass e.g. { AllowUnencrypted: "true" } or \'@{AllowUnencrypted="true"}\'',
    });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (!PROPERTY_NAME.test(k)) {
      throw new InvalidArgumentError(`"${k}" is not a property name`, {
        argument: 'values',
        remedy: 'property names are XML names as the class defines them, e.g. AllowUnencrypted',
      });
    }
    if (typeof v !== 'string') {
      throw new InvalidArgumentError(`The value of "${k}" is not a string`, {
        argument: 'values',
        remedy: 'WS-Man carries text: give every value as a string, e.g. "true" or "30"',
      });
    }
    out[k] = v;
  }
  return out;
}
