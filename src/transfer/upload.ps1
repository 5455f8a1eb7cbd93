# winrm-connection transfer protocol 1, remote side of uploads (docs/transfer-protocol.md).
# bootstrap.ps1 runs this with the stdin reader. Every path arrives as a base64 UTF-8 field: data, never code.
# Records: '#F <path> <overwrite 0|1> <id>' + base64 data lines + '#E <length> <sha256>' (or '#A' to cancel),
# '#D <path>' to create a directory, '#Q' to finish. Answers on stdout: '#OK', '#DIR', '#ERR <code> <message>'.
# Windows PowerShell 2.0 to 5.1: only .NET 2.0 APIs, no ConvertFrom-Json, no Stream.CopyTo.
param([IO.TextReader]$Reader)

# @include common.ps1

function Get-FailureCode($Failure) {
  if ($Failure.Data.Contains('WrcpCode')) { return $Failure.Data['WrcpCode'] }
  if ($Failure -is [UnauthorizedAccessException]) { return 'ACCESS_DENIED' }
  if ($Failure -is [IO.DirectoryNotFoundException]) { return 'NO_DIR' }
  if ($Failure -is [IO.PathTooLongException]) { return 'BAD_PATH' }
  if ($Failure -is [ArgumentException] -or $Failure -is [NotSupportedException]) { return 'BAD_PATH' }
  if ($Failure -is [IO.IOException]) { return 'IO' }
  'FAILED'
}

function Remove-Temp([string]$Path) {
  try {
    if ([IO.File]::Exists($Path)) { [IO.File]::Delete($Path) }
  } catch {
    Write-Line ('#WARN ' + (ConvertTo-Field ('could not remove ' + $Path)))
  }
}

function Receive-File([string[]]$Fields) {
  if ($Fields.Length -ne 4 -or $Fields[3] -notmatch '^[0-9a-f]{16}$') {
    throw (New-Failure 'PROTOCOL' 'malformed #F record')
  }
  $target = [IO.Path]::GetFullPath((ConvertFrom-Field $Fields[1]))
  $overwrite = $Fields[2] -eq '1'
  $directory = [IO.Path]::GetDirectoryName($target)
  if ($null -eq $directory -or [IO.Path]::GetFileName($target) -eq '') {
    throw (New-Failure 'BAD_PATH' "'$target' does not name a file")
  }
  if ([IO.Directory]::Exists($target)) { throw (New-Failure 'IS_DIR' "'$target' is a directory") }
  if (-not [IO.Directory]::Exists($directory)) {
    throw (New-Failure 'NO_DIR' "the directory '$directory' does not exist")
  }
  if (-not $overwrite -and [IO.File]::Exists($target)) {
    throw (New-Failure 'EXISTS' "'$target' already exists")
  }
  $temp = [IO.Path]::Combine($directory, '.wrcp-' + $Fields[3] + '.tmp')
  $hasher = [Security.Cryptography.SHA256]::Create()
  $stream = $null
  $length = [long]0
  try {
    $stream = New-Object IO.FileStream($temp, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::None)
    while ($true) {
      $line = $Reader.ReadLine()
      if ($null -eq $line) { throw (New-Failure 'EOF' 'stdin ended in the middle of a file') }
      if ($line.StartsWith('#', [StringComparison]::Ordinal)) { break }
      $bytes = [Convert]::FromBase64String($line)
      [void]$hasher.TransformBlock($bytes, 0, $bytes.Length, $bytes, 0)
      $stream.Write($bytes, 0, $bytes.Length)
      $length += $bytes.Length
    }
    $trailer = $line.Split(' ')
    if ($trailer[0] -eq '#A') { throw (New-Failure 'ABORTED' 'the client cancelled the upload') }
    if ($trailer[0] -ne '#E' -or $trailer.Length -ne 3) { throw (New-Failure 'PROTOCOL' 'malformed #E record') }
    [void]$hasher.TransformFinalBlock((New-Object byte[] 0), 0, 0)
    $sha256 = ([BitConverter]::ToString($hasher.Hash) -replace '-', '').ToLowerInvariant()
    $stream.Close()
    $stream = $null
    if ($length -ne [long]$trailer[1] -or $sha256 -ne $trailer[2]) {
      throw (New-Failure 'HASH_MISMATCH' ("received $length bytes with SHA-256 $sha256, the client sent " + $trailer[1] + ' bytes with SHA-256 ' + $trailer[2]))
    }
    if ([IO.File]::Exists($target)) {
      if (-not $overwrite) { throw (New-Failure 'EXISTS' "'$target' already exists") }
      [IO.File]::Replace($temp, $target, $null)
    } else {
      [IO.File]::Move($temp, $target)
    }
    Write-Line ("#OK $length $sha256 " + (ConvertTo-Field $target))
  } finally {
    if ($null -ne $stream) { $stream.Close() }
    Remove-Temp $temp
  }
}

function New-Folder([string[]]$Fields) {
  if ($Fields.Length -ne 2) { throw (New-Failure 'PROTOCOL' 'malformed #D record') }
  $path = [IO.Path]::GetFullPath((ConvertFrom-Field $Fields[1]))
  if ([IO.File]::Exists($path)) { throw (New-Failure 'NOT_DIR' "'$path' is a file, not a directory") }
  [void][IO.Directory]::CreateDirectory($path)
  Write-Line ('#DIR ' + (ConvertTo-Field $path))
}

Write-Line '#WRCP 1 upload'
try {
  while ($true) {
    $line = $Reader.ReadLine()
    if ($null -eq $line -or $line -eq '#Q') { break }
    $fields = $line.Split(' ')
    if ($fields[0] -eq '#F') { Receive-File $fields }
    elseif ($fields[0] -eq '#D') { New-Folder $fields }
    else { throw (New-Failure 'PROTOCOL' 'unexpected record') }
  }
} catch {
  $cause = Get-Cause $_.Exception
  Write-Line ('#ERR ' + (Get-FailureCode $cause) + ' ' + (ConvertTo-Field $cause.Message))
  exit 1
}
