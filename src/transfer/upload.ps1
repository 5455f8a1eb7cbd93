# winrm-connection transfer protocol 1, remote side of uploads (docs/transfer-protocol.md).
# bootstrap.ps1 runs this with the stdin reader. Every path arrives as a base64 UTF-8 field: data, never code.
# Records: '#F <path> <overwrite 0|1> <id>' + base64 data lines + '#E <length> <sha256>' (or '#A' to cancel),
# '#D <path>' to create a directory, '#Q' to finish. Answers on stdout: '#OK', '#DIR', '#ERR <code> <message>'.
# Parallel streams: '#P <path> <overwrite> <id> <length>' creates the temporary file (answer '#READY'), any process
# writes ranges of it with '#W <path> <id> <offset>' + data lines + '#E' (answer '#RANGE'), and the process that
# sent '#P' verifies the whole file with '#V <length> <sha256>' and renames it (answer '#OK').
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

# The checks before a file is received: returns the full path of the target.
function Resolve-Target([string]$Path, [bool]$Overwrite) {
  $target = [IO.Path]::GetFullPath($Path)
  $directory = [IO.Path]::GetDirectoryName($target)
  if ($null -eq $directory -or [IO.Path]::GetFileName($target) -eq '') {
    throw (New-Failure 'BAD_PATH' "'$target' does not name a file")
  }
  if ([IO.Directory]::Exists($target)) { throw (New-Failure 'IS_DIR' "'$target' is a directory") }
  if (-not [IO.Directory]::Exists($directory)) {
    throw (New-Failure 'NO_DIR' "the directory '$directory' does not exist")
  }
  if (-not $Overwrite -and [IO.File]::Exists($target)) {
    throw (New-Failure 'EXISTS' "'$target' already exists")
  }
  $target
}

# The verified temporary file replaces the target (atomic over an existing one, keeping its ACL).
function Complete-Target([string]$Temp, [string]$Target, [bool]$Overwrite) {
  if ([IO.File]::Exists($Target)) {
    if (-not $Overwrite) { throw (New-Failure 'EXISTS' "'$Target' already exists") }
    [IO.File]::Replace($Temp, $Target, $null)
  } else {
    [IO.File]::Move($Temp, $Target)
  }
}

function Get-Hex($Hasher) {
  [void]$Hasher.TransformFinalBlock((New-Object byte[] 0), 0, 0)
  ([BitConverter]::ToString($Hasher.Hash) -replace '-', '').ToLowerInvariant()
}

function Receive-File([string[]]$Fields) {
  if ($Fields.Length -ne 4 -or $Fields[3] -notmatch '^[0-9a-f]{16}$') {
    throw (New-Failure 'PROTOCOL' 'malformed #F record')
  }
  $overwrite = $Fields[2] -eq '1'
  $target = Resolve-Target (ConvertFrom-Field $Fields[1]) $overwrite
  $temp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($target), '.wrcp-' + $Fields[3] + '.tmp')
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
    $sha256 = Get-Hex $hasher
    $stream.Close()
    $stream = $null
    if ($length -ne [long]$trailer[1] -or $sha256 -ne $trailer[2]) {
      throw (New-Failure 'HASH_MISMATCH' ("received $length bytes with SHA-256 $sha256, the client sent " + $trailer[1] + ' bytes with SHA-256 ' + $trailer[2]))
    }
    Complete-Target $temp $target $overwrite
    Write-Line ("#OK $length $sha256 " + (ConvertTo-Field $target))
  } finally {
    if ($null -ne $stream) { $stream.Close() }
    Remove-Temp $temp
  }
}

# Parallel streams. The temporary file is shared by several processes: every open allows the others to read,
# write and delete (FileShare ReadWrite, Delete), so the creator can remove it on a failure while a writer still
# holds it (Windows deletes it when the last handle closes).
$script:Parallel = $null
$script:Sharing = [IO.FileShare]'ReadWrite, Delete'

function Open-Parallel([string[]]$Fields) {
  if ($Fields.Length -ne 5 -or $Fields[3] -notmatch '^[0-9a-f]{16}$' -or $Fields[4] -notmatch '^[0-9]{1,15}$') {
    throw (New-Failure 'PROTOCOL' 'malformed #P record')
  }
  if ($null -ne $script:Parallel) { throw (New-Failure 'PROTOCOL' 'a parallel file is already open') }
  $overwrite = $Fields[2] -eq '1'
  $target = Resolve-Target (ConvertFrom-Field $Fields[1]) $overwrite
  $temp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($target), '.wrcp-' + $Fields[3] + '.tmp')
  $stream = New-Object IO.FileStream($temp, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, $script:Sharing)
  # Created by this process: from here on a failure removes it.
  $script:Parallel = @{ Target = $target; Temp = $temp; Overwrite = $overwrite }
  try { $stream.SetLength([long]$Fields[4]) } finally { $stream.Close() }
  Write-Line ('#READY ' + (ConvertTo-Field $target))
}

function Write-Range([string[]]$Fields) {
  if ($Fields.Length -ne 4 -or $Fields[2] -notmatch '^[0-9a-f]{16}$' -or $Fields[3] -notmatch '^[0-9]{1,15}$') {
    throw (New-Failure 'PROTOCOL' 'malformed #W record')
  }
  $target = [IO.Path]::GetFullPath((ConvertFrom-Field $Fields[1]))
  $temp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($target), '.wrcp-' + $Fields[2] + '.tmp')
  $offset = [long]$Fields[3]
  $hasher = [Security.Cryptography.SHA256]::Create()
  $length = [long]0
  $stream = New-Object IO.FileStream($temp, [IO.FileMode]::Open, [IO.FileAccess]::Write, $script:Sharing)
  try {
    $size = $stream.Length
    [void]$stream.Seek($offset, [IO.SeekOrigin]::Begin)
    while ($true) {
      $line = $Reader.ReadLine()
      if ($null -eq $line) { throw (New-Failure 'EOF' 'stdin ended in the middle of a range') }
      if ($line.StartsWith('#', [StringComparison]::Ordinal)) { break }
      $bytes = [Convert]::FromBase64String($line)
      if ($offset + $length + $bytes.Length -gt $size) {
        throw (New-Failure 'PROTOCOL' 'the range goes beyond the length given in #P')
      }
      [void]$hasher.TransformBlock($bytes, 0, $bytes.Length, $bytes, 0)
      $stream.Write($bytes, 0, $bytes.Length)
      $length += $bytes.Length
    }
    $trailer = $line.Split(' ')
    if ($trailer[0] -eq '#A') { throw (New-Failure 'ABORTED' 'the client cancelled the upload') }
    if ($trailer[0] -ne '#E' -or $trailer.Length -ne 3) { throw (New-Failure 'PROTOCOL' 'malformed #E record') }
    $sha256 = Get-Hex $hasher
    $stream.Close()
    if ($length -ne [long]$trailer[1] -or $sha256 -ne $trailer[2]) {
      throw (New-Failure 'HASH_MISMATCH' ("received $length bytes at offset $offset with SHA-256 $sha256, the client sent " + $trailer[1] + ' bytes with SHA-256 ' + $trailer[2]))
    }
    Write-Line "#RANGE $offset $length"
  } finally {
    $stream.Close()
  }
}

function Complete-Parallel([string[]]$Fields) {
  if ($Fields.Length -ne 3) { throw (New-Failure 'PROTOCOL' 'malformed #V record') }
  $p = $script:Parallel
  if ($null -eq $p) { throw (New-Failure 'PROTOCOL' 'no parallel file is open') }
  # One SHA-256 over the assembled file, read once from the start. FileShare Read: no writer is left.
  $hasher = [Security.Cryptography.SHA256]::Create()
  $buffer = New-Object byte[] 1048576
  $length = [long]0
  $stream = New-Object IO.FileStream($p.Temp, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]::Read)
  try {
    while ($true) {
      $read = $stream.Read($buffer, 0, $buffer.Length)
      if ($read -eq 0) { break }
      [void]$hasher.TransformBlock($buffer, 0, $read, $buffer, 0)
      $length += $read
    }
  } finally {
    $stream.Close()
  }
  $sha256 = Get-Hex $hasher
  if ($length -ne [long]$Fields[1] -or $sha256 -ne $Fields[2]) {
    throw (New-Failure 'HASH_MISMATCH' ("assembled $length bytes with SHA-256 $sha256, the client sent " + $Fields[1] + ' bytes with SHA-256 ' + $Fields[2]))
  }
  Complete-Target $p.Temp $p.Target $p.Overwrite
  $script:Parallel = $null
  Write-Line ("#OK $length $sha256 " + (ConvertTo-Field $p.Target))
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
    if ($null -eq $line -or $line -eq '#Q') {
      if ($null -ne $script:Parallel) { throw (New-Failure 'EOF' 'stdin ended before #V') }
      break
    }
    $fields = $line.Split(' ')
    if ($fields[0] -eq '#F') { Receive-File $fields }
    elseif ($fields[0] -eq '#D') { New-Folder $fields }
    elseif ($fields[0] -eq '#P') { Open-Parallel $fields }
    elseif ($fields[0] -eq '#W') { Write-Range $fields }
    elseif ($fields[0] -eq '#V') { Complete-Parallel $fields }
    elseif ($fields[0] -eq '#A' -and $null -ne $script:Parallel) {
      throw (New-Failure 'ABORTED' 'the client cancelled the upload')
    }
    else { throw (New-Failure 'PROTOCOL' 'unexpected record') }
  }
} catch {
  $cause = Get-Cause $_.Exception
  if ($null -ne $script:Parallel) { Remove-Temp $script:Parallel.Temp }
  Write-Line ('#ERR ' + (Get-FailureCode $cause) + ' ' + (ConvertTo-Field $cause.Message))
  exit 1
}
