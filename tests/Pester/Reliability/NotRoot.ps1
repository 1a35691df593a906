# Runs as an unprivileged user (setpriv from Reliability.Tests.ps1), with or without the ambient
# capability CAP_SYS_NICE, and writes what each command did to $ResultFile for the tests to check:
#   another user's process (root's target): reading and advising it;
#   a process of this user (a target it starts): reading and advising it;
#   this pwsh itself: advice without and with data loss.
param(
    [Parameter(Mandatory)] [string] $ResultFile,
    [Parameter(Mandatory)] [int] $OtherId,
    [Parameter(Mandatory)] [string] $OtherMappingFile
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Continue'
$result = [ordered]@{}

Import-Module MadvPS
Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1')
$counter = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc').GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')

# Output count, errors (id, category, text), process_madvise calls made, and any terminating error.
function Invoke-Observed([scriptblock] $Command) {
    $calls = [long]$counter.GetValue($null)
    $all = @()
    $terminating = $null
    try { $all = @(& $Command 2>&1) } catch { $terminating = "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
    $errors = @($all | Where-Object { $_ -is [Management.Automation.ErrorRecord] })
    [ordered]@{
        Output      = @($all | Where-Object { $_ -isnot [Management.Automation.ErrorRecord] }).Count
        Statuses    = @($all | Where-Object { $_ -is [MadvPS.AdviceResult] } | ForEach-Object { "$($_.Status)" })
        Errors      = @($errors | ForEach-Object { $_.FullyQualifiedErrorId })
        Categories  = @($errors | ForEach-Object { "$($_.CategoryInfo.Category)" })
        Messages    = @($errors | ForEach-Object { $_.Exception.Message })
        Calls       = [long]$counter.GetValue($null) - $calls
        Terminating = $terminating
    }
}

$own = $null
try {
    $result.Uid = [int](& id -u)
    $result.HasCapSysNice = (Get-MemoryAdviceSupport -Environment).HasCapSysNice

    # Another user's process.
    $other = Get-Content -Raw $OtherMappingFile | ConvertFrom-Json
    $result.ReadOther = Invoke-Observed { Get-MemoryMapping -Id $OtherId }
    $result.RollupOther = Invoke-Observed { Get-MemoryMapping -Id $OtherId -Rollup }
    $result.SetOther = Invoke-Observed { Set-ProcessMadvise -Id $OtherId -Advice PageOut }
    $result.InvokeOther = Invoke-Observed { $other | Invoke-MemoryAdvice -Advice PageOut -PassThru }

    # A process of this user.
    $own = Start-TestTarget -FileMiB 8
    $file = $own.Region('file')
    $result.ReadOwn = Invoke-Observed { Get-MemoryMapping -Id $own.Id }
    $result.OwnResidentBefore = $own.Resident('file')
    $result.InvokeOwn = Invoke-Observed { Get-MemoryMapping -Id $own.Id -Address $file.Start | Invoke-MemoryAdvice -Advice PageOut -PassThru }
    $result.OwnResidentAfterInvoke = $own.Resident('file')
    $null = $own.Send('touch file')
    $result.OwnResidentBeforeSet = $own.Resident('file')
    $result.SetOwn = Invoke-Observed { Set-ProcessMadvise -Id $own.Id -Advice PageOut -MappingType File }
    $result.OwnResidentAfterSet = $own.Resident('file')

    # This pwsh itself: any advice without a capability since Linux 6.13; data loss needs -Force.
    $mine = Get-MemoryMapping -Id $PID | Where-Object { $_.Permissions -eq 'rw-p' -and $_.Kind -eq 'Anonymous' -and $_.Rss -gt 0 } | Select-Object -First 1
    $result.SelfCold = Invoke-Observed { Invoke-MemoryAdvice -Id $PID -Address $mine.Start -Length 4096 -Advice Cold -PassThru }
    $result.SelfDontNeed = Invoke-Observed { Invoke-MemoryAdvice -Id $PID -Address $mine.Start -Length 4096 -Advice DontNeed }
}
catch {
    $result.Error = "$($_.Exception.Message) at $($_.InvocationInfo.PositionMessage)"
}
finally {
    if ($own) { $own.Stop() }
}
$result | ConvertTo-Json -Depth 5 | Set-Content -Path $ResultFile
