/**
 * What the scripts' catch blocks report: a protocol code and the .NET exception message Windows would give
 * (texts of .NET Framework 4.x, the runtime of Windows PowerShell 5.1).
 */
import { win32 } from 'node:path';

export class ScriptFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const failures = {
  accessDenied: (winPath: string) =>
    new ScriptFailure('ACCESS_DENIED', `Access to the path '${winPath}' is denied.`),
  partNotFound: (winPath: string, code = 'NO_DIR') =>
    new ScriptFailure(code, `Could not find a part of the path '${winPath}'.`),
  illegal: () => new ScriptFailure('BAD_PATH', 'Illegal characters in path.'),
  format: () => new ScriptFailure('BAD_PATH', "The given path's format is not supported."),
  protocol: (what: string) => new ScriptFailure('PROTOCOL', what),
  invalidBase64: () =>
    new ScriptFailure(
      'FAILED',
      'The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters. ',
    ),
};

/**
 * [Convert]::FromBase64String: strict. Node's decoder skips characters outside the alphabet, which makes the
 * output shorter than the length implies, so a length check finds them without scanning the line.
 */
export function fromBase64(text: string): Buffer {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 === 0 && !text.includes('-') && !text.includes('_')) {
    const out = Buffer.from(text, 'base64');
    if (out.length === (text.length / 4) * 3 - pad) return out;
  }
  throw failures.invalidBase64();
}

export function fromField(text: string | undefined): string {
  return fromBase64(text ?? '').toString('utf8');
}

export function toField(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** [IO.Path]::GetFullPath as .NET Framework 4.x applies it (relative to the process's current directory). */
export function fullPath(path: string, cwd: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: .NET rejects control characters in paths
  if (/[<>"|?*\u0000-\u001f]/.test(path)) throw failures.illegal();
  if (path.trim() === '') throw new ScriptFailure('BAD_PATH', 'The path is not of a legal form.');
  const colon = path.indexOf(':', 2);
  if (colon >= 0 || path.indexOf(':') === 0) throw failures.format();
  return win32.resolve(cwd, path);
}
