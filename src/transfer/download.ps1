# winrm-connection transfer protocol 1, remote side of downloads (docs/transfer-protocol.md).
# bootstrap.ps1 runs this with the stdin reader. Every path arrives as a base64 UTF-8 field: data, never code.
# Records on stdin: '#G <path> <block bytes>' per file, then '#Q'. Answers on stdout per file:
# '#H <length> <path>', base64 data lines of <block bytes> each (the last may be shorter), '#E <length> <sha256>';
# or '#ERR <code> <message>' and the script stops. Windows PowerShell 2.0 to 5.1: only .NET 2.0 APIs.
# Parallel streams: '#S <path>' holds the file open (FileShare Read: no writer until this process ends) and answers
# '#H'; '#R <path> <block> <offset> <length>' sends one range ('#H', data lines, '#E' of the range); '#V' answers
# '#E <length> <sha256>' of the whole held file.
param([IO.TextReader]$Reader)

# @include common.ps1

function Get-FailureCode($Failure) {
  if ($Failure.Data.Contains('WrcpCode')) { return $Failure.Data['WrcpCode'] }
  if ($Failure -is [UnauthorizedAccessException]) { return 'ACCESS_DENIED' }
  if ($Failure -is [IO.FileNotFoundException]) { return 'NOT_FOUND' }
  if ($Failure -is [IO.DirectoryNotFoundException]) { return 'NOT_FOUND' }
  if ($Failure -is [IO.PathTooLongException]) { return 'BAD_PATH' }
  if ($Failure -is [ArgumentException] -or $Failure -is [NotSupportedException]) { return 'BAD_PATH' }
  if ($Failure -is [IO.IOException]) { return 'IO' }
  'FAILED'
}

function Send-File([string]$Path, [int]$BlockSize) {
  $source = [IO.Path]::GetFullPath($Path)
  if ([IO.Directory]::Exists($source)) { throw (New-Failure 'IS_DIR' "'$source' is a directory") }
  if (-not [IO.File]::Exists($source)) { throw (New-Failure 'NOT_FOUND' "'$source' does not exist") }
  $hasher = [Security.Cryptography.SHA256]::Create()
  $buffer = New-Object byte[] $BlockSize
  $stream = New-Object IO.FileStream($source, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]::Read)
  try {
    Write-Line ('#H ' + $stream.Length + ' ' + (ConvertTo-Field $source))
    $length = [long]0
    while ($true) {
      $count = 0
      while ($count -lt $BlockSize) {
        $read = $stream.Read($buffer, $count, $BlockSize - $count)
        if ($read -eq 0) { break }
        $count += $read
      }
      if ($count -eq 0) { break }
      [void]$hasher.TransformBlock($buffer, 0, $count, $buffer, 0)
      Write-Line ([Convert]::ToBase64String($buffer, 0, $count))
      $length += $count
      if ($count -lt $BlockSize) { break }
    }
    [void]$hasher.TransformFinalBlock((New-Object byte[] 0), 0, 0)
    $sha256 = ([BitConverter]::ToString($hasher.Hash) -replace '-', '').ToLowerInvariant()
    Write-Line "#E $length $sha256"
  } finally {
    $stream.Close()
  }
}

function Open-Source([string]$Path) {
  $source = [IO.Path]::GetFullPath($Path)
  if ([IO.Directory]::Exists($source)) { throw (New-Failure 'IS_DIR' "'$source' is a directory") }
  if (-not [IO.File]::Exists($source)) { throw (New-Failure 'NOT_FOUND' "'$source' does not exist") }
  New-Object IO.FileStream($source, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]::Read)
}

function Get-Hex($Hasher) {
  [void]$Hasher.TransformFinalBlock((New-Object byte[] 0), 0, 0)
  ([BitConverter]::ToString($Hasher.Hash) -replace '-', '').ToLowerInvariant()
}

$script:Held = $null

function Hold-File([string[]]$Fields) {
  if ($Fields.Length -ne 2) { throw (New-Failure 'PROTOCOL' 'malformed #S record') }
  if ($null -ne $script:Held) { throw (New-Failure 'PROTOCOL' 'a file is already held') }
  $script:Held = Open-Source (ConvertFrom-Field $Fields[1])
  Write-Line ('#H ' + $script:Held.Length + ' ' + (ConvertTo-Field $script:Held.Name))
}

function Send-Range([string[]]$Fields) {
  if ($Fields.Length -ne 5 -or $Fields[2] -notmatch '^[1-9][0-9]{0,7}$' -or $Fields[3] -notmatch '^[0-9]{1,15}$' -or $Fields[4] -notmatch '^[0-9]{1,15}$') {
    throw (New-Failure 'PROTOCOL' 'malformed #R record')
  }
  $blockSize = [int]$Fields[2]
  $offset = [long]$Fields[3]
  $left = [long]$Fields[4]
  $stream = Open-Source (ConvertFrom-Field $Fields[1])
  try {
    if ($offset + $left -gt $stream.Length) {
      throw (New-Failure 'PROTOCOL' 'the range goes beyond the end of the file')
    }
    Write-Line ('#H ' + $stream.Length + ' ' + (ConvertTo-Field $stream.Name))
    [void]$stream.Seek($offset, [IO.SeekOrigin]::Begin)
    $hasher = [Security.Cryptography.SHA256]::Create()
    $buffer = New-Object byte[] $blockSize
    $length = [long]0
    while ($left -gt 0) {
      $want = [int][Math]::Min([long]$blockSize, $left)
      $count = 0
      while ($count -lt $want) {
        $read = $stream.Read($buffer, $count, $want - $count)
        if ($read -eq 0) { throw (New-Failure 'IO' 'the file became shorter while it was read') }
        $count += $read
      }
      [void]$hasher.TransformBlock($buffer, 0, $count, $buffer, 0)
      Write-Line ([Convert]::ToBase64String($buffer, 0, $count))
      $length += $count
      $left -= $count
    }
    Write-Line ("#E $length " + (Get-Hex $hasher))
  } finally {
    $stream.Close()
  }
}

function Send-Hash([string[]]$Fields) {
  if ($Fields.Length -ne 1 -or $null -eq $script:Held) { throw (New-Failure 'PROTOCOL' 'malformed #V record') }
  $stream = $script:Held
  [void]$stream.Seek(0, [IO.SeekOrigin]::Begin)
  $hasher = [Security.Cryptography.SHA256]::Create()
  $buffer = New-Object byte[] 1048576
  $length = [long]0
  while ($true) {
    $read = $stream.Read($buffer, 0, $buffer.Length)
    if ($read -eq 0) { break }
    [void]$hasher.TransformBlock($buffer, 0, $read, $buffer, 0)
    $length += $read
  }
  Write-Line ("#E $length " + (Get-Hex $hasher))
}

Write-Line '#WRCP 1 download'
try {
  while ($true) {
    $line = $Reader.ReadLine()
    if ($null -eq $line -or $line -eq '#Q') { break }
    $fields = $line.Split(' ')
    if ($fields[0] -eq '#S') { Hold-File $fields; continue }
    if ($fields[0] -eq '#R') { Send-Range $fields; continue }
    if ($fields[0] -eq '#V') { Send-Hash $fields; continue }
    if ($fields[0] -ne '#G' -or $fields.Length -ne 3 -or $fields[2] -notmatch '^[1-9][0-9]{0,7}$') {
      throw (New-Failure 'PROTOCOL' 'malformed #G record')
    }
    Send-File (ConvertFrom-Field $fields[1]) ([int]$fields[2])
  }
  if ($null -ne $script:Held) { $script:Held.Close() }
} catch {
  $cause = Get-Cause $_.Exception
  Write-Line ('#ERR ' + (Get-FailureCode $cause) + ' ' + (ConvertTo-Field $cause.Message))
  exit 1
}
