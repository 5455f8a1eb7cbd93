# winrm-connection transfer protocol 1: removes the temporary files of uploads whose process ended without
# reporting (dropped connection, killed process). Records on stdin: '#C <target path> <id>', then '#Q'.
# Answers per record: '#OK removed' or '#OK absent'; on failure '#ERR <code> <message>' and the script stops.
param([IO.TextReader]$Reader)

# @include common.ps1

Write-Line '#WRCP 1 cleanup'
try {
  while ($true) {
    $line = $Reader.ReadLine()
    if ($null -eq $line -or $line -eq '#Q') { break }
    $fields = $line.Split(' ')
    if ($fields[0] -ne '#C' -or $fields.Length -ne 3 -or $fields[2] -notmatch '^[0-9a-f]{16}$') {
      throw (New-Object Exception 'malformed #C record')
    }
    $target = [IO.Path]::GetFullPath((ConvertFrom-Field $fields[1]))
    $temp = [IO.Path]::Combine([IO.Path]::GetDirectoryName($target), '.wrcp-' + $fields[2] + '.tmp')
    $state = 'absent'
    # A killed upload process may hold the file for a moment after it ended: retry for about five seconds.
    for ($attempt = 0; $attempt -lt 25 -and [IO.File]::Exists($temp); $attempt++) {
      try {
        [IO.File]::Delete($temp)
        $state = 'removed'
      } catch [IO.IOException] {
        Start-Sleep -Milliseconds 200
      }
    }
    if ([IO.File]::Exists($temp)) { throw (New-Object IO.IOException "'$temp' is still in use") }
    Write-Line "#OK $state"
  }
} catch {
  $cause = $_.Exception
  while ($cause -is [Management.Automation.MethodInvocationException] -and $null -ne $cause.InnerException) {
    $cause = $cause.InnerException
  }
  $code = 'IO'
  if ($cause -is [UnauthorizedAccessException]) { $code = 'ACCESS_DENIED' }
  Write-Line ('#ERR ' + $code + ' ' + (ConvertTo-Field $cause.Message))
  exit 1
}
