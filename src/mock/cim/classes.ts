/**
 * The CIM classes the mock serves from root/cimv2, with Windows-shaped values (property names and types from the
 * Win32 class reference on Microsoft Learn; values as a Windows Server 2019 VM reports them). Each class lists its
 * key properties (the selectors Windows accepts) and its writable properties; instances are built per server so
 * that method calls (StartService, StopService) change only that server's state.
 */

/** A property value: text as WS-Management writes it, a string array for array properties, null for xsi:nil. */
export type CimValue = string | string[] | null;
export type CimInstance = Record<string, CimValue>;

export interface CimClass {
  name: string;
  keys: readonly string[];
  /** Properties Put may change (Learn: "Access type: Read/write"). */
  writable: readonly string[];
  /** Method names the class defines (Invoke of another name is WMI's "invalid method"). */
  methods: readonly string[];
  instances: CimInstance[];
}

export interface CimMachine {
  computerName: string;
  /** e.g. 10.0.17763 */
  version: string;
}

function service(
  name: string,
  displayName: string,
  state: 'Running' | 'Stopped',
  startMode: string,
  pathName: string,
  processId: number,
  acceptStop = true,
): CimInstance {
  const running = state === 'Running';
  return {
    AcceptPause: 'false',
    AcceptStop: running && acceptStop ? 'true' : 'false',
    Caption: displayName,
    CheckPoint: '0',
    CreationClassName: 'Win32_Service',
    DelayedAutoStart: 'false',
    Description: `${displayName} service`,
    DesktopInteract: 'false',
    DisplayName: displayName,
    ErrorControl: 'Normal',
    ExitCode: running ? '0' : '1077',
    InstallDate: null,
    Name: name,
    PathName: pathName,
    ProcessId: running ? String(processId) : '0',
    ServiceSpecificExitCode: '0',
    ServiceType: 'Share Process',
    Started: running ? 'true' : 'false',
    StartMode: startMode,
    StartName: 'LocalSystem',
    State: state,
    Status: 'OK',
    SystemCreationClassName: 'Win32_ComputerSystem',
    SystemName: '',
    TagId: '0',
    WaitHint: '0',
  };
}

function process(name: string, pid: number, parent: number, commandLine: string | null): CimInstance {
  return {
    Caption: name,
    CommandLine: commandLine,
    CreationClassName: 'Win32_Process',
    CSCreationClassName: 'Win32_ComputerSystem',
    CSName: '',
    Description: name,
    ExecutablePath: commandLine === null ? null : `C:\\Windows\\System32\\${name}`,
    Handle: String(pid),
    HandleCount: '500',
    Name: name,
    OSCreationClassName: 'Win32_OperatingSystem',
    OSName: 'Microsoft Windows Server 2019 Datacenter|C:\\Windows|\\Device\\Harddisk0\\Partition2',
    ParentProcessId: String(parent),
    ProcessId: String(pid),
    SessionId: '0',
    ThreadCount: '8',
    WorkingSetSize: '10485760',
  };
}

/** A fresh set of classes for one server. */
export function buildClasses(m: CimMachine): Map<string, CimClass> {
  const host = m.computerName;
  const [major = '10', minor = '0', build = '17763'] = m.version.split('.');
  const services: CimInstance[] = [
    service(
      'BITS',
      'Background Intelligent Transfer Service',
      'Stopped',
      'Manual',
      'C:\\Windows\\System32\\svchost.exe -k netsvcs -p',
      0,
    ),
    service(
      'EventLog',
      'Windows Event Log',
      'Running',
      'Auto',
      'C:\\Windows\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p',
      1288,
    ),
    // RpcSs does not accept Stop (AcceptStop false): StopService answers 5 as on Windows.
    service(
      'RpcSs',
      'Remote Procedure Call (RPC)',
      'Running',
      'Auto',
      'C:\\Windows\\system32\\svchost.exe -k rpcss -p',
      912,
      false,
    ),
    service('Spooler', 'Print Spooler', 'Running', 'Auto', 'C:\\Windows\\System32\\spoolsv.exe', 2236),
    service(
      'W32Time',
      'Windows Time',
      'Stopped',
      'Manual',
      'C:\\Windows\\system32\\svchost.exe -k LocalService',
      0,
    ),
    service(
      'WinRM',
      'Windows Remote Management (WS-Management)',
      'Running',
      'Auto',
      'C:\\Windows\\System32\\svchost.exe -k NetworkService -p',
      3312,
    ),
  ];
  for (const s of services) s.SystemName = host;
  const processes: CimInstance[] = [
    process('System Idle Process', 0, 0, null),
    process('System', 4, 0, null),
    process('services.exe', 640, 520, 'C:\\Windows\\system32\\services.exe'),
    process('svchost.exe', 3312, 640, 'C:\\Windows\\System32\\svchost.exe -k NetworkService -p'),
    process('wsmprovhost.exe', 4120, 912, 'C:\\Windows\\system32\\wsmprovhost.exe -Embedding'),
  ];
  for (const p of processes) p.CSName = host;
  const classes: CimClass[] = [
    {
      name: 'Win32_OperatingSystem',
      keys: ['Name'],
      writable: ['Description', 'ForegroundApplicationBoost'],
      methods: ['Reboot', 'Shutdown', 'Win32Shutdown', 'SetDateTime'],
      instances: [
        {
          BootDevice: '\\Device\\HarddiskVolume1',
          BuildNumber: build,
          BuildType: 'Multiprocessor Free',
          Caption: 'Microsoft Windows Server 2019 Datacenter',
          CodeSet: '1252',
          CountryCode: '1',
          CreationClassName: 'Win32_OperatingSystem',
          CSCreationClassName: 'Win32_ComputerSystem',
          CSName: host,
          CurrentTimeZone: '0',
          Description: '',
          ForegroundApplicationBoost: '2',
          FreePhysicalMemory: '2789036',
          InstallDate: '2024-01-15T10:12:44Z',
          LastBootUpTime: '2026-12-01T08:00:00.500000Z',
          Locale: '0409',
          Manufacturer: 'Microsoft Corporation',
          MUILanguages: ['en-US'],
          Name: 'Microsoft Windows Server 2019 Datacenter|C:\\Windows|\\Device\\Harddisk0\\Partition2',
          NumberOfProcesses: String(processes.length),
          OSArchitecture: '64-bit',
          OSLanguage: '1033',
          OSType: '18',
          ProductType: '3',
          SerialNumber: '00430-00000-00000-AA000',
          ServicePackMajorVersion: '0',
          ServicePackMinorVersion: '0',
          Status: 'OK',
          SystemDirectory: 'C:\\Windows\\system32',
          SystemDrive: 'C:',
          TotalVisibleMemorySize: '4193716',
          Version: `${major}.${minor}.${build}`,
          WindowsDirectory: 'C:\\Windows',
        },
      ],
    },
    {
      name: 'Win32_ComputerSystem',
      keys: ['Name'],
      writable: ['AutomaticManagedPagefile'],
      methods: ['Rename', 'JoinDomainOrWorkgroup', 'UnjoinDomainOrWorkgroup'],
      instances: [
        {
          AutomaticManagedPagefile: 'true',
          Caption: host,
          CreationClassName: 'Win32_ComputerSystem',
          Description: 'AT/AT COMPATIBLE',
          DNSHostName: host.toLowerCase(),
          Domain: 'WORKGROUP',
          DomainRole: '2',
          Manufacturer: 'QEMU',
          Model: 'Standard PC (Q35 + ICH9, 2009)',
          Name: host,
          NumberOfLogicalProcessors: '2',
          NumberOfProcessors: '1',
          PartOfDomain: 'false',
          PrimaryOwnerName: 'Windows User',
          Status: 'OK',
          SystemType: 'x64-based PC',
          TotalPhysicalMemory: '4294295552',
          UserName: null,
          Workgroup: 'WORKGROUP',
        },
      ],
    },
    {
      name: 'Win32_Processor',
      keys: ['DeviceID'],
      writable: [],
      methods: ['Reset', 'SetPowerState'],
      instances: [
        {
          AddressWidth: '64',
          Architecture: '9',
          Caption: 'Intel64 Family 6 Model 85 Stepping 7',
          CreationClassName: 'Win32_Processor',
          CurrentClockSpeed: '2394',
          DataWidth: '64',
          Description: 'Intel64 Family 6 Model 85 Stepping 7',
          DeviceID: 'CPU0',
          LoadPercentage: '3',
          Manufacturer: 'GenuineIntel',
          MaxClockSpeed: '2394',
          Name: 'Intel(R) Xeon(R) Gold 6240R CPU @ 2.40GHz',
          NumberOfCores: '2',
          NumberOfLogicalProcessors: '2',
          ProcessorId: '0F8BFBFF00050657',
          Status: 'OK',
          SystemName: host,
        },
      ],
    },
    {
      name: 'Win32_Service',
      keys: ['Name'],
      writable: [],
      methods: [
        'StartService',
        'StopService',
        'PauseService',
        'ResumeService',
        'ChangeStartMode',
        'Change',
        'Delete',
      ],
      instances: services,
    },
    {
      name: 'Win32_Process',
      keys: ['Handle'],
      writable: [],
      methods: ['Terminate', 'GetOwner', 'GetOwnerSid', 'SetPriority', 'AttachDebugger', 'Create'],
      instances: processes,
    },
  ];
  return new Map(classes.map((c) => [c.name.toLowerCase(), c]));
}
