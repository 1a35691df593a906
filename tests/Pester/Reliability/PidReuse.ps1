# Runs inside a new PID namespace (unshare --pid --fork --mount-proc) whose pid_max is lowered,
# which since Linux 6.14 is per namespace: PIDs wrap within a few hundred forks, so a process can
# be replaced at its PID for real. Reliability.Tests.ps1 starts it and checks what it writes.
#   A: a target; its mappings are read; it exits.
#   B: a target started so that it gets A's PID.
# Advice aimed at A's mappings must be refused (ProcessIdentityMismatch) and reach B not at all.
param(
    [Parameter(Mandatory)] [string] $ResultFile,
    # The inode of the PID namespace the test runs in (readlink /proc/self/ns/pid outside): this
    # script writes pid_max only from another one.
    [Parameter(Mandatory)] [string] $HostPidNamespace,
    [int] $PidMax = 400
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$result = [ordered]@{}

function Write-Result { $result | ConvertTo-Json -Depth 4 | Set-Content -Path $ResultFile }

# Before Linux 6.14 pid_max is one value for the whole host, whatever the namespace: writing it
# here would lower the host's. Skip, with the reason, unless the kernel is new enough and this is
# another PID namespace than the test's.
$release = (Get-Content /proc/sys/kernel/osrelease)
$version = if ($release -match '^(\d+)\.(\d+)') { [version]"$($Matches[1]).$($Matches[2])" } else { [version]'0.0' }
$namespace = (Get-Item /proc/self/ns/pid).LinkTarget
if ($version -lt [version]'6.14') {
    $result.Skipped = "pid_max is per PID namespace only since Linux 6.14 (this is $release): lowering it here would lower the host's"
    Write-Result
    exit 0
}
if ($namespace -eq $HostPidNamespace) {
    $result.Skipped = "this script runs in the test's own PID namespace ($namespace), where pid_max is the host's"
    Write-Result
    exit 0
}

try {
    # Set-Content does not reach a sysctl; a plain write does.
    [IO.File]::WriteAllText('/proc/sys/kernel/pid_max', "$PidMax")
}
catch {
    $result.Skipped = "This kernel has no per-namespace pid_max (Linux 6.14+): $($_.Exception.Message)"
    Write-Result
    exit 0
}

Import-Module $env:MADVPS_MODULE
$libc = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc')
$counter = $libc.GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')
function Get-AdviceCalls { [long]$counter.GetValue($null) }

$directory = Join-Path ([IO.Path]::GetTempPath()) "madvps-pidreuse-$([guid]::NewGuid().ToString('n'))"
New-Item -ItemType Directory -Path $directory | Out-Null

# Starts the target from a shell that first forks /bin/true until one gets PID $After, so that
# the target, forked next, gets $After + 1 (unless another task was created in between). The
# target's stdin is passed explicitly: sh gives a background command /dev/null otherwise.
function Start-TargetAfter([int] $After) {
    $info = [Diagnostics.ProcessStartInfo]::new('sh')
    $script = 'a=$1; m=$2; shift 2; n=0; while :; do /bin/true & p=$!; wait $p; n=$((n+1)); [ "$p" -eq "$a" ] && break; [ $n -gt $((2 * m)) ] && { echo "gaveup"; exit 1; }; done; exec 3<&0; "$@" <&3 3<&- & echo "pid $! after $p"; wait $!'
    foreach ($a in @('-c', $script, 'sh', $After, $PidMax, [Environment]::ProcessPath, $env:MADVPS_TARGET, '--file-mib', '8', '--dir', $directory)) { $info.ArgumentList.Add([string]$a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $shell = [Diagnostics.Process]::Start($info)
    $t = @{ Shell = $shell; Id = 0; After = -1; Regions = @{} }
    while ($true) {
        $line = $shell.StandardOutput.ReadLine()
        if ($null -eq $line -or $line -eq 'gaveup') { throw "The target started after PID $After did not start ($line)." }
        if ($line -eq 'ready') { break }
        $w = $line -split ' '
        if ($w[0] -eq 'pid') { $t.Id = [int]$w[1]; $t.After = [int]$w[3] }
        if ($w[0] -eq 'region') { $t.Regions[$w[1]] = @{ Start = [Convert]::ToUInt64($w[2].Substring(2), 16); Length = [long]$w[3] } }
    }
    $t
}

function Send-Target($t, [string] $command) {
    $t.Shell.StandardInput.WriteLine($command)
    $t.Shell.StandardInput.Flush()
    if ($command -eq 'exit') { $t.Shell.WaitForExit(); return }
    $t.Shell.StandardOutput.ReadLine()
}

function Get-Resident($t) { [long]((Send-Target $t 'resident file') -split ' ')[1] }

try {
    $result.PidMax = [int](Get-Content /proc/sys/kernel/pid_max)
    # A, high enough in the range that PIDs wrap (to 300, RESERVED_PIDS) below it.
    $a = $null
    foreach ($try in 1..5) {
        # A PID a thread holds never comes round: then the next one is tried.
        try { $a = Start-TargetAfter ($PidMax - 60 + $try) } catch { $a = $null; continue }
        if ($a.Id -eq $a.After + 1) { break }
        Send-Target $a 'exit'
        $a = $null
    }
    if (-not $a) { throw 'Could not start A right after a PID this script controls.' }
    $result.APid = $a.Id
    $mappingsOfA = @(Get-MemoryMapping -Id $a.Id)
    $fileOfA = $mappingsOfA | Where-Object { $_.Start -le $a.Regions.file.Start -and $_.End -gt $a.Regions.file.Start }
    $result.AStartTime = $fileOfA.ProcessStartTime
    $result.AMappings = $mappingsOfA.Count
    Send-Target $a 'exit'

    # B: forked right after A-1 comes round again, so that it gets A's PID.
    $b = $null
    $result.Tries = 0
    foreach ($try in 1..8) {
        $result.Tries++
        try { $b = Start-TargetAfter ($a.Id - 1) } catch { $b = $null; continue }
        if ($b.Id -eq $a.Id) { break }
        Send-Target $b 'exit'
        $b = $null
    }
    if (-not $b) { throw "No target got PID $($a.Id) again in $($result.Tries) tries." }
    $result.BPid = $b.Id
    $rollupOfB = Get-MemoryMapping -Id $b.Id -Rollup
    $result.BStartTime = $rollupOfB.ProcessStartTime
    $result.BResidentBefore = Get-Resident $b

    # 1. A's own mappings, piped as they were read.
    $calls = Get-AdviceCalls
    $out = $mappingsOfA | Invoke-MemoryAdvice -Advice PageOut -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
    $result.RealMappings = @{
        Calls = (Get-AdviceCalls) - $calls
        Results = @($out).Count
        Errors = @($errs | ForEach-Object { $_.FullyQualifiedErrorId })
        Category = @($errs | ForEach-Object { "$($_.CategoryInfo.Category)" })
        Message = @($errs | ForEach-Object { $_.Exception.Message })
    }

    # 2. A's identity with B's file region as the range: if the advice went through, B's file
    # pages would be paged out (file pages need no swap).
    $aimed = [pscustomobject]@{
        ProcessId = $a.Id; ProcessStartTime = $result.AStartTime; BootId = $fileOfA.BootId
        Start = $b.Regions.file.Start; Size = $b.Regions.file.Length; Path = $fileOfA.Path; Kind = 'File'; VmFlags = $fileOfA.VmFlags
    }
    $calls = Get-AdviceCalls
    $aimed | Invoke-MemoryAdvice -Advice PageOut -ErrorVariable errs -ErrorAction SilentlyContinue | Out-Null
    $result.Aimed = @{
        Calls = (Get-AdviceCalls) - $calls
        Errors = @($errs | ForEach-Object { $_.FullyQualifiedErrorId })
        ResidentAfter = Get-Resident $b
    }

    # 3. Control: the same range with B's own identity is advised, and B's pages go. This shows
    # that the test would see a call that reached B.
    $aimed.ProcessStartTime = $result.BStartTime
    $aimed.Path = (Get-MemoryMapping -Id $b.Id -Address $b.Regions.file.Start).Path
    $calls = Get-AdviceCalls
    $aimed | Invoke-MemoryAdvice -Advice PageOut -ErrorVariable errs -ErrorAction SilentlyContinue | Out-Null
    $result.Control = @{
        Calls = (Get-AdviceCalls) - $calls
        Errors = @($errs | ForEach-Object { $_.FullyQualifiedErrorId })
        ResidentAfter = Get-Resident $b
    }
    Send-Target $b 'exit'
}
catch {
    $result.Error = "$($_.Exception.Message) at $($_.InvocationInfo.PositionMessage)"
}
finally {
    Remove-Item -Recurse -Force $directory -ErrorAction SilentlyContinue
}
Write-Result
