/**
 * Open shells and their commands, per-user quotas and the shell idle timeout. The operation count follows
 * Windows: Create and Command take one each; only deleting the shell gives them back ([MS-WSMV] note 118).
 */
import { randomUUID } from 'node:crypto';
import type { SignalName } from '../../wsman/constants.ts';
import type { CommandHost, ShellInfo } from '../hosts/types.ts';
import type { ResolvedOptions } from '../options.ts';
import { Faults } from '../wire/faults.ts';
import { type CommandSpec, MockCommand } from './command.ts';

export interface MockShell {
  id: string;
  /** rsp:Name from the Create ([MS-WSMV] 2.2.4.37), when the client gave one. */
  name: string | undefined;
  resourceUri: string;
  owner: string;
  clientIp: string;
  codepage: number;
  noProfile: boolean;
  inputStreams: string[];
  outputStreams: string[];
  idleTimeoutMs: number;
  info: ShellInfo;
  createdAt: number;
  lastActivity: number;
  commands: Map<string, MockCommand>;
  /** Commands ever started here: each holds an operation until the shell is deleted. */
  commandsStarted: number;
}

/** What `server.shells()` returns: a snapshot, safe to keep. */
export interface ShellSnapshot {
  shellId: string;
  /** rsp:Name from the Create, when the client gave one. */
  name: string | undefined;
  owner: string;
  clientIp: string;
  resourceUri: string;
  codepage: number;
  createdAt: Date;
  lastActivity: Date;
  commands: CommandSnapshot[];
}

export interface CommandSnapshot {
  commandId: string;
  commandLine: string;
  state: 'Running' | 'Done';
  exitCode: number | undefined;
  /** Signals received, in order, e.g. ['ctrl_c', 'terminate']. */
  signals: SignalName[];
  terminated: boolean;
  stdinBytes: number;
  stdinEnded: boolean;
  /** Bytes written by the host, per stream. */
  outputBytes: Record<string, number>;
  /** Bytes waiting for a Receive. */
  queuedBytes: number;
}

export interface CreateShellInput {
  user: { name: string; domain: string };
  clientIp: string;
  resourceUri: string;
  /** rsp:Name of the Create, if any. */
  name?: string;
  codepage: number;
  noProfile: boolean;
  inputStreams: string[];
  outputStreams: string[];
  idleTimeoutMs: number | undefined;
  workingDirectory: string | undefined;
  environment: Record<string, string>;
}

export class ShellStore {
  private readonly shells = new Map<string, MockShell>();
  /** Operations held per user name. */
  private readonly operations = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly host: CommandHost,
    private readonly fileRoot: string,
  ) {
    const period = Math.max(50, Math.min(1000, Math.floor(options.quotas.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweepIdle(), period);
    this.sweeper.unref();
  }

  get size(): number {
    return this.shells.size;
  }

  private userOps(user: string): number {
    return this.operations.get(user) ?? 0;
  }

  private takeOperation(user: string): void {
    const max = this.options.quotas.maxConcurrentOperationsPerUser;
    if (this.userOps(user) + 1 > max) throw Faults.quotaOperations(max);
    this.operations.set(user, this.userOps(user) + 1);
  }

  create(input: CreateShellInput): MockShell {
    const owner = input.user.name;
    const open = [...this.shells.values()].filter((s) => s.owner === owner).length;
    if (open >= this.options.quotas.maxShellsPerUser)
      throw Faults.quotaShells(this.options.quotas.maxShellsPerUser);
    this.takeOperation(owner);
    const id = randomUUID().toUpperCase();
    const profile = `C:\\Users\\${owner}`;
    const environment: Record<string, string> = {
      COMPUTERNAME: this.options.machineName,
      USERNAME: owner,
      USERDOMAIN: input.user.domain,
      USERPROFILE: profile,
      HOMEDRIVE: 'C:',
      HOMEPATH: `\\Users\\${owner}`,
      TEMP: `${profile}\\AppData\\Local\\Temp`,
      TMP: `${profile}\\AppData\\Local\\Temp`,
      SystemRoot: 'C:\\Windows',
      windir: 'C:\\Windows',
      SystemDrive: 'C:',
      ComSpec: 'C:\\Windows\\system32\\cmd.exe',
      PATHEXT: '.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC',
      OS: 'Windows_NT',
      PROCESSOR_ARCHITECTURE: 'AMD64',
      ...input.environment,
    };
    const now = Date.now();
    const shell: MockShell = {
      id,
      name: input.name,
      resourceUri: input.resourceUri,
      owner,
      clientIp: input.clientIp,
      codepage: input.codepage,
      noProfile: input.noProfile,
      inputStreams: input.inputStreams,
      outputStreams: input.outputStreams,
      idleTimeoutMs: input.idleTimeoutMs ?? this.options.quotas.idleTimeoutMs,
      info: {
        shellId: id,
        user: owner,
        domain: input.user.domain,
        machine: this.options.machineName,
        workingDirectory: input.workingDirectory ?? profile,
        environment,
        fileRoot: this.fileRoot,
      },
      createdAt: now,
      lastActivity: now,
      commands: new Map(),
      commandsStarted: 0,
    };
    this.shells.set(id, shell);
    return shell;
  }

  /** The caller's shell (ids compare case-insensitively), touching its idle clock; else InvalidSelectors. */
  get(shellId: string | undefined, user: string): MockShell {
    if (shellId === undefined || shellId === '') throw Faults.missingShellSelector();
    const shell = this.shells.get(shellId.toUpperCase());
    // Another user's shell is as good as absent: Windows scopes shells to their owner.
    if (!shell || shell.owner !== user) throw Faults.shellNotFound(shellId);
    shell.lastActivity = Date.now();
    return shell;
  }

  command(shell: MockShell, commandId: string | undefined): MockCommand {
    const cmd = commandId ? shell.commands.get(commandId.toUpperCase()) : undefined;
    // A terminated command stays listed for introspection but is gone for the protocol.
    if (!cmd || cmd.terminated) throw Faults.commandNotFound();
    return cmd;
  }

  startCommand(
    shell: MockShell,
    spec: Omit<CommandSpec, 'shell' | 'codepage' | 'bufferBytes' | 'maxMemoryMB'>,
  ) {
    const maxCmds = this.options.quotas.maxConcurrentCommandsPerShell;
    if (maxCmds !== undefined) {
      const running = [...shell.commands.values()].filter((c) => !c.doneDelivered && !c.terminated).length;
      if (running >= maxCmds) throw Faults.quotaCommands(maxCmds);
    }
    this.takeOperation(shell.owner);
    shell.commandsStarted++;
    const cmd = new MockCommand({
      ...spec,
      shell: shell.info,
      codepage: shell.codepage,
      bufferBytes: this.options.outputBufferBytes,
      maxMemoryMB: this.options.quotas.maxMemoryPerShellMB,
    });
    shell.commands.set(cmd.id, cmd);
    void cmd.start(this.host);
    return cmd;
  }

  delete(shell: MockShell, reason = 'delete'): void {
    if (!this.shells.delete(shell.id)) return;
    for (const cmd of shell.commands.values()) cmd.kill(reason);
    const held = 1 + shell.commandsStarted;
    this.operations.set(shell.owner, Math.max(0, this.userOps(shell.owner) - held));
  }

  /** The open shells of one user, oldest first (what an Enumerate of the shell resource lists). */
  ownedBy(user: string): MockShell[] {
    return [...this.shells.values()].filter((s) => s.owner === user);
  }

  /** Operations currently held by a user. */
  operationsOf(user: string): number {
    return this.userOps(user);
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const shell of [...this.shells.values()]) {
      if (now - shell.lastActivity >= shell.idleTimeoutMs) this.delete(shell, 'idle');
    }
  }

  snapshot(): ShellSnapshot[] {
    return [...this.shells.values()].map((s) => ({
      shellId: s.id,
      name: s.name,
      owner: s.owner,
      clientIp: s.clientIp,
      resourceUri: s.resourceUri,
      codepage: s.codepage,
      createdAt: new Date(s.createdAt),
      lastActivity: new Date(s.lastActivity),
      commands: [...s.commands.values()].map((c) => ({
        commandId: c.id,
        commandLine: c.commandLine,
        state: c.state,
        exitCode: c.exitCode,
        signals: [...c.signals],
        terminated: c.terminated,
        stdinBytes: c.stdinBytes,
        stdinEnded: c.stdinEnded,
        outputBytes: { ...c.output.written },
        queuedBytes: c.output.size,
      })),
    }));
  }

  /** Kill everything and wait for the hosts to settle (server close). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const cmds: MockCommand[] = [];
    for (const shell of [...this.shells.values()]) {
      cmds.push(...shell.commands.values());
      this.delete(shell, 'close');
    }
    // Hosts that ignore their abort signal must not hold close() forever.
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000);
    });
    await Promise.race([Promise.all(cmds.map((c) => c.settled())), grace]);
    clearTimeout(timer);
  }
}
