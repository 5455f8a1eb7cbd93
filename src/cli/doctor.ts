/**
 * `winrm-connection doctor [connection flags] [--json]`: the troubleshooting checklist of src/doctor/checks.ts.
 * Text output is one line per step, `[PASS] title: detail`, with ` Fix: remedy` on steps that did not pass.
 * Exit code: 0 when every step passed (or was skipped), 1 when the worst finding is a warning, 2 when a step failed
 * (usage errors also exit 2, through main.ts). See docs/doctor.md.
 */
import { runDoctor } from '../doctor/checks.ts';
import { CONNECTION_USAGE, parseCli, toConnectionOptions } from './options.ts';

export const DOCTOR_USAGE = `  doctor [connection flags] [--json]
                     walk the WinRM troubleshooting checklist (DNS, TCP, TLS, Identify, auth, winrm/config,
                     listeners, service, a test command); exits 0 all pass, 1 a warning, 2 a failure`;

interface DoctorIo {
  stdout: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function runDoctorCli(argv: string[], io: DoctorIo): Promise<number> {
  const { values } = parseCli(argv, { json: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(`Usage:\n${DOCTOR_USAGE}\n\n${CONNECTION_USAGE}\n`);
    return 0;
  }
  const { timeoutMs, ...options } = toConnectionOptions(values, io.env);
  const report = await runDoctor({ ...options, stepTimeoutMs: timeoutMs, signal: io.signal });
  if (values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const lines = report.steps.map(
      (s) => `[${s.status.toUpperCase()}] ${s.title}: ${s.detail}${s.remedy ? ` Fix: ${s.remedy}` : ''}`,
    );
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return report.worst === 'pass' ? 0 : report.worst === 'warn' ? 1 : 2;
}
