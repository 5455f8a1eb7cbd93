# winrm-connection transfer protocol 1: helpers shared by the transfer scripts (docs/transfer-protocol.md).
# Not sent on its own: the include line of each script is replaced by this text before the script is sent.
$stdout = [Console]::OpenStandardOutput()

function Write-Line([string]$Text) {
  $bytes = [Text.Encoding]::ASCII.GetBytes($Text + "`n")
  $stdout.Write($bytes, 0, $bytes.Length)
  $stdout.Flush()
}

function ConvertFrom-Field([string]$Field) {
  [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Field))
}

function ConvertTo-Field([string]$Text) {
  [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Text))
}

function New-Failure([string]$Code, [string]$Message) {
  $failure = New-Object Exception $Message
  $failure.Data['WrcpCode'] = $Code
  $failure
}

function Get-Cause($Failure) {
  while ($Failure -is [Management.Automation.MethodInvocationException] -and $null -ne $Failure.InnerException) {
    $Failure = $Failure.InnerException
  }
  $Failure
}
