# winrm-connection transfer protocol 1, remote directory listing for downloadDirectory (docs/transfer-protocol.md).
# bootstrap.ps1 runs this with the stdin reader. Input: '#L <root>' (base64 UTF-8 field). Output: '#R <full root>',
# then '#D <relative path>' per directory and '#F <relative path> <length>' per file (paths relative to the root,
# '\'-separated, base64 UTF-8), then '#END'. Junctions and symbolic links to directories are listed, not entered.
param([IO.TextReader]$Reader)

# @include common.ps1

function Get-FailureCode($Failure) {
  if ($Failure.Data.Contains('WrcpCode')) { return $Failure.Data['WrcpCode'] }
  if ($Failure -is [UnauthorizedAccessException]) { return 'ACCESS_DENIED' }
  if ($Failure -is [IO.DirectoryNotFoundException]) { return 'NOT_FOUND' }
  if ($Failure -is [ArgumentException] -or $Failure -is [NotSupportedException]) { return 'BAD_PATH' }
  if ($Failure -is [IO.IOException]) { return 'IO' }
  'FAILED'
}

Write-Line '#WRCP 1 list'
try {
  $fields = $Reader.ReadLine().Split(' ')
  if ($fields[0] -ne '#L' -or $fields.Length -ne 2) { throw (New-Failure 'PROTOCOL' 'malformed #L record') }
  $root = [IO.Path]::GetFullPath((ConvertFrom-Field $fields[1]))
  if (-not [IO.Directory]::Exists($root)) {
    if ([IO.File]::Exists($root)) { throw (New-Failure 'NOT_DIR' "'$root' is a file, not a directory") }
    throw (New-Failure 'NOT_FOUND' "'$root' does not exist")
  }
  Write-Line ('#R ' + (ConvertTo-Field $root))
  $pending = New-Object Collections.Queue
  $pending.Enqueue('')
  while ($pending.Count -gt 0) {
    $relative = [string]$pending.Dequeue()
    $directory = $root
    $prefix = ''
    if ($relative -ne '') {
      $directory = [IO.Path]::Combine($root, $relative)
      $prefix = $relative + '\'
    }
    foreach ($child in [IO.Directory]::GetDirectories($directory)) {
      $name = $prefix + [IO.Path]::GetFileName($child)
      Write-Line ('#D ' + (ConvertTo-Field $name))
      if (([IO.File]::GetAttributes($child) -band [IO.FileAttributes]::ReparsePoint) -eq 0) { $pending.Enqueue($name) }
    }
    foreach ($child in [IO.Directory]::GetFiles($directory)) {
      $info = New-Object IO.FileInfo $child
      Write-Line ('#F ' + (ConvertTo-Field ($prefix + $info.Name)) + ' ' + $info.Length)
    }
  }
  Write-Line '#END'
} catch {
  $cause = Get-Cause $_.Exception
  Write-Line ('#ERR ' + (Get-FailureCode $cause) + ' ' + (ConvertTo-Field $cause.Message))
  exit 1
}
