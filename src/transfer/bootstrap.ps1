$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$reader = [Console]::In
$source = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($reader.ReadLine()))
& ([scriptblock]::Create($source)) $reader
