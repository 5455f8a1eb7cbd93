# winrm-connection transfer protocol 1, remote side of downloads (docs/transfer-protocol.md).
# bootstrap.ps1 runs this with the stdin reader. Every path arrives as a base64 UTF-8 field: data, never code.
# Records on stdin: '#G <path> <block bytes>' per file, then '#Q'. Answers on stdout per file:
# '#H <length> <path>', base64 data lines of <block bytes> each (the last may be shorter), '#E <length> <sha256>';
# or '#ERR <code> <message>' and the script stops. Windows PowerShell 2.0 to 5.1: only .NET 2.0 APIs.
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

Write-Line '#WRCP 1 download'
try {
  while ($true) {
    $line = $Reader.ReadLine()
    if ($null -eq $line -or $line -eq '#Q') { break }
    $fields = $line.Split(' ')
    if ($fields[0] -ne '#G' -or $fields.Length -ne 3 -or $fields[2] -notmatch '^[1-9][0-9]{0,7}$') {
      throw (New-Failure 'PROTOCOL' 'malformed #G record')
    }
    Send-File (ConvertFrom-Field $fields[1]) ([int]$fields[2])
  }
} catch {
  $cause = Get-Cause $_.Exception
  Write-Line ('#ERR ' + (Get-FailureCode $cause) + ' ' + (ConvertTo-Field $cause.Message))
  exit 1
}
