#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The benchmarks of build.ps1 Bench: MadvPS against the kernel's own time and against its peers.
.DESCRIPTION
    Starts the project's target program with N mappings (60,000 and 1,000 by default) and times,
    interleaved in one run (each repetition runs every case once, in the same order), the median
    of -Repetitions runs of:
      - a plain read of /proc/PID/smaps in this pwsh (the reference), of smaps_rollup and of maps;
      - the module's parser and reader without PowerShell (where the time goes);
      - Get-MemoryMapping collecting every object, the same filtered with Where-Object Rss -gt 0,
        and -Rollup;
      - pmap -X, and psutil's memory_maps() where Debian's python3-psutil is (or can be) installed;
      - Set-ProcessMadvise -Advice Cold on every range, against one process_madvise call per range
        and against the fewest calls (ceil(n/1024)) made bare from C#, with the calls counted.
      - the headline pipeline Get-MemoryMapping | Where-Object Rss -gt 1MB | Invoke-MemoryAdvice
        -Advice PageOut against a plain read plus the bare calls, with Where-Object's share;
    Before the targets, every process of the machine at once: Get-MemoryMapping -Rollup (by -Id,
    -Name * and from Get-Process) and whole, against plain reads of every smaps_rollup and smaps one
    after the other and N at a time, ps -eo pid,rss and smem (Debian's, installed when missing).
    After them, MADV_POPULATE_WRITE over -PopulateGiB GiB in a process of the bench's own
    (MadvPS.Benchmarks populate): 1, 2 and 4 threads, THP on and off, threads made before or
    during the faults.
    Then the managed allocation of the parser (BenchmarkDotNet's memory diagnoser on the captured
    smaps text) and the peak RSS of a fresh pwsh streaming the mappings to Measure-Object.
    Writes the tables to -Output (docs/benchmarks.md) and prints them.
    vm.max_map_count is raised for the run only when the mappings need it, and put back after.
.EXAMPLE
    dotnet pwsh -NoProfile ./build.ps1 Bench
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Target,
    [Parameter(Mandatory)] [string] $Benchmarks,
    [Parameter(Mandatory)] [string] $Output,
    [int[]] $Mappings = @(60000, 1000),
    # A larger process for the peak-RSS row only, to show that streaming does not grow with the count.
    [int] $PeakRssMappings = 200000,
    [ValidateRange(5, 100)] [int] $Repetitions = 9,
    # The parts to run (all by default): Host (every process on the machine), Mappings (the
    # targets, the pipeline and advice), Memory (BenchmarkDotNet and peak RSS), Populate.
    [ValidateSet('Host', 'Mappings', 'Memory', 'Populate')] [string[]] $Part = @('Host', 'Mappings', 'Memory', 'Populate'),
    # The anonymous memory the populate benchmark maps (less when the machine has not that much free).
    [int] $PopulateGiB = 4,
    [string] $Command = 'dotnet pwsh -NoProfile ./build.ps1 Bench'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

Import-Module $Module -Force
Add-Type -Path (Join-Path (Split-Path $Benchmarks) 'MadvPS.Benchmarks.dll')
$R = [MadvPS.Benchmarks.References]
$libc = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc')
$callCounter = $libc.GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')
$notes = [System.Collections.Generic.List[string]]::new()
$started = Get-Date

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $n = $sorted.Count
    if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}

function Get-LoadAverage { (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' ' }

# --- peers -------------------------------------------------------------------------------------
$python = '/usr/bin/python3'
function Test-Psutil { (Test-Path $python) -and $(& $python -c 'import psutil' 2>$null; $LASTEXITCODE -eq 0) }
$havePsutil = Test-Psutil
if (-not $havePsutil -and (Get-Command apt-get -ErrorAction Ignore) -and (id -u) -eq '0') {
    Write-Host 'Installing Debian''s python3-psutil for the psutil row...'
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -q python3-psutil *> $null
    if ($LASTEXITCODE -ne 0) { & apt-get update -q *> $null; & apt-get install -y -q python3-psutil *> $null }
    $havePsutil = Test-Psutil
}
if (-not $havePsutil) { $notes.Add('psutil: python3-psutil is not installed and could not be installed with apt-get; its row is left out.') }
$psutilScript = @'
import sys, time, psutil
p = psutil.Process(int(sys.argv[1]))
t = time.perf_counter()
n = len(p.memory_maps(grouped=False))
print((time.perf_counter() - t) * 1000, n)
'@
$havePmap = [bool](Get-Command pmap -ErrorAction Ignore)
$haveSmem = [bool](Get-Command smem -ErrorAction Ignore)
if ('Host' -in $Part -and -not $haveSmem -and (Get-Command apt-get -ErrorAction Ignore) -and (id -u) -eq '0') {
    Write-Host 'Installing Debian''s smem for the host-wide rows...'
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get install -y -q smem *> $null
    if ($LASTEXITCODE -ne 0) { & apt-get update -q *> $null; & apt-get install -y -q smem *> $null }
    $haveSmem = [bool](Get-Command smem -ErrorAction Ignore)
}
if ('Host' -in $Part -and -not $haveSmem) { $notes.Add('smem: not installed and could not be installed with apt-get; its row is left out.') }
if (-not $havePmap) { $notes.Add('pmap: not installed (Debian package procps); its row is left out.') }

# --- vm.max_map_count --------------------------------------------------------------------------
$mapCountPath = '/proc/sys/vm/max_map_count'
# Set-Content does not reach a sysctl; a plain write does (the kernel checks and applies it).
function Set-MapCount([int] $Value) {
    [IO.File]::WriteAllText($mapCountPath, "$Value`n")
    if ([int](Get-Content $mapCountPath) -ne $Value) { throw "Could not set vm.max_map_count to $Value (root is needed)." }
}
$mapCountBefore = [int](Get-Content $mapCountPath)
$mapCountSet = $null
$needed = (@($Mappings) + $PeakRssMappings | Measure-Object -Maximum).Maximum + 10000
if ($mapCountBefore -lt $needed) {
    Set-MapCount $needed
    $mapCountSet = $needed
    $notes.Add("vm.max_map_count was raised from $mapCountBefore to $needed for the run and put back after.")
}

function Start-Target([int] $Count) {
    # Someone else on the machine may have put vm.max_map_count back meanwhile.
    if ($mapCountSet -and [int](Get-Content $mapCountPath) -lt $Count + 5000) {
        Set-MapCount $mapCountSet
        $notes.Add("vm.max_map_count had been lowered by something else during the run; it was raised again to $mapCountSet.")
    }
    $info = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    foreach ($a in @($Target, '--mappings', [string]$Count)) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($info)
    while ($true) {
        $line = $process.StandardOutput.ReadLine()
        if ($null -eq $line) {
            $process.WaitForExit()
            throw "The target with $Count mappings exited before it was ready (exit code $($process.ExitCode)); vm.max_map_count is $(Get-Content $mapCountPath)."
        }
        if ($line -eq 'ready') { return $process }
    }
}

function Stop-Target($Process) {
    if (-not $Process.HasExited) {
        $Process.StandardInput.WriteLine('exit')
        if (-not $Process.WaitForExit(10000)) { $Process.Kill() }
    }
    $Process.Dispose()
}

# Runs a script block and returns wall and CPU time (all threads of this pwsh) in ms.
function Measure-Case([scriptblock] $Block) {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers()
    $cpu = $R::ProcessCpuMilliseconds()
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $value = & $Block
    $clock.Stop()
    [pscustomobject]@{ Wall = $clock.Elapsed.TotalMilliseconds; Cpu = $R::ProcessCpuMilliseconds() - $cpu; Value = $value }
}

# Peak RSS of a fresh pwsh that streams every mapping of the process to Measure-Object.
function Measure-PeakRss([int] $ProcessId, [string] $Pipeline) {
    $script = @"
Import-Module '$Module'
`$null = Get-MemoryMapping -Id $ProcessId | Select-Object -First 100
[GC]::Collect()
function kB([string] `$key) { [long](((Get-Content /proc/self/status) -match "^`${key}:")[0] -replace '\D', '') }
[IO.File]::WriteAllText('/proc/self/clear_refs', '5')
`$before = kB VmRSS
$Pipeline
'{0} {1}' -f `$before, (kB VmHWM)
"@
    $pwsh = Join-Path $PSHOME 'pwsh.dll'
    $out = & ([Environment]::ProcessPath) $pwsh -NoProfile -NonInteractive -Command $script
    $words = ($out | Select-Object -Last 1) -split ' '
    [pscustomobject]@{ Before = [long]$words[0] * 1KB; Peak = [long]$words[1] * 1KB }
}

$results = [ordered]@{}
$hostResult = $null
$populateResult = $null
$bdn = @{}
$advice = [ordered]@{}
$memory = [System.Collections.Generic.List[object]]::new()
$loadBefore = Get-LoadAverage
$smapsCapture = Join-Path ([IO.Path]::GetTempPath()) "madvps-bench-smaps-$PID.txt"

try {
    # --- every process on the machine (before the targets, which would dominate it) ---------------
    if ('Host' -in $Part) {
        Write-Host 'Every process on the machine...'
        $hostIds = [int[]](Get-Process).Id
        $n = [Environment]::ProcessorCount
        $hostCases = [ordered]@{
            'plain reads of every smaps_rollup, one after the other (reference)' = { $R::ReadEach($hostIds, 'smaps_rollup').Count }
            "plain reads of every smaps_rollup, $n at a time (the floor of a parallel read)" = { $R::ReadEach($hostIds, 'smaps_rollup', $n).Count }
            'module core, one after the other (MappingReader.ReadRollup, no PowerShell)' = { $R::ReadRollupsSequentially($hostIds).Count }
            'Get-MemoryMapping -Id (every PID) -Rollup' = { @(Get-MemoryMapping -Id $hostIds -Rollup -ErrorAction SilentlyContinue).Count }
            'Get-MemoryMapping -Name * -Rollup' = { @(Get-MemoryMapping -Name * -Rollup -ErrorAction SilentlyContinue).Count }
            'Get-Process | Get-MemoryMapping -Rollup' = { @(Get-Process | Get-MemoryMapping -Rollup -ErrorAction SilentlyContinue).Count }
            'ps -eo pid,rss' = { @(& ps -eo pid,rss).Count }
        }
        if ($haveSmem) { $hostCases['smem (PSS of every process)'] = { @(& smem -c 'pid pss').Count } }
        $hostCases['plain reads of every smaps, one after the other (reference for whole mappings)'] = { $R::ReadEach($hostIds, 'smaps').Count }
        $hostCases["plain reads of every smaps, $n at a time"] = { $R::ReadEach($hostIds, 'smaps', $n).Count }
        $hostCases['Get-MemoryMapping -Id (every PID), every mapping'] = { @(Get-MemoryMapping -Id $hostIds -ErrorAction SilentlyContinue).Count }
        $hostSamples = @{}
        foreach ($name in $hostCases.Keys) { $hostSamples[$name] = [System.Collections.Generic.List[object]]::new() }
        foreach ($round in 0..$Repetitions) {
            foreach ($name in $hostCases.Keys) {
                $m = Measure-Case $hostCases[$name]
                if ($name -like 'ps *' -or $name -like 'smem*') { $m.Cpu = [double]::NaN }
                if ($round -gt 0) { $hostSamples[$name].Add($m) }
            }
            Write-Host "  round $round of $Repetitions done"
        }
        $hostRows = foreach ($name in $hostCases.Keys) {
            $wall = $hostSamples[$name] | ForEach-Object Wall
            $cpu = $hostSamples[$name] | ForEach-Object Cpu
            [pscustomobject]@{
                Case = $name; Median = (Get-Median $wall)
                Min = ($wall | Measure-Object -Minimum).Minimum; Max = ($wall | Measure-Object -Maximum).Maximum
                Cpu = if ([double]::IsNaN($cpu[0])) { $null } else { Get-Median $cpu }
                Count = $hostSamples[$name][0].Value
            }
        }
        $hostResult = [pscustomobject]@{ Processes = $hostIds.Count; Rows = $hostRows; Load = Get-LoadAverage }
    }

    if ('Mappings' -in $Part) {
    foreach ($count in $Mappings) {
        Write-Host "Target with --mappings $count..."
        $process = Start-Target $count
        try {
            $id = $process.Id
            $smaps = "/proc/$id/smaps"
            $vmas = (Get-Content "/proc/$id/maps").Count
            $cases = [ordered]@{
                'plain read of smaps (reference)'           = { $R::ReadFile($smaps).Bytes }
                'plain read of smaps_rollup'                 = { $R::ReadFile("/proc/$id/smaps_rollup").Bytes }
                'plain read of maps'                         = { $R::ReadFile("/proc/$id/maps").Bytes }
                'parser, no PowerShell, one thread'          = { $R::Parse($smaps, $false).Count }
                'parser, no PowerShell, read-ahead thread'   = { $R::Parse($smaps, $true).Count }
                'parser and objects, no PowerShell'          = { $R::ReadMappings($id).Count }
                'Get-MemoryMapping (all objects collected)'  = { $all = Get-MemoryMapping -Id $id; $all.Count }
                'Get-MemoryMapping | Where-Object Rss -gt 0' = { $some = Get-MemoryMapping -Id $id | Where-Object Rss -gt 0; @($some).Count }
                'Get-MemoryMapping -Rollup'                  = { (Get-MemoryMapping -Id $id -Rollup).Rss }
            }
            if ($havePmap) { $cases['pmap -X'] = { $lines = & pmap -X $id; $lines.Count } }
            if ($havePsutil) { $cases['psutil memory_maps() (in-Python time)'] = { $script:psutilOut = & $python -c $psutilScript $id; $script:psutilOut } }

            # The headline pipeline (issue 18), whole and in its parts: Where-Object over objects
            # already collected is PowerShell's own cost per object; the bare reference is a plain
            # read of smaps and process_madvise of the ranges the filter selected before the rounds.
            $collected = @(Get-MemoryMapping -Id $id)
            $big = @($collected | Where-Object Rss -gt 1MB)
            [ulong[]] $bigStarts = $big.Start
            [long[]] $bigLengths = $big.Size
            $pageOut = [int][MadvPS.MemoryAdvice]::PageOut
            $cases['Where-Object Rss -gt 1MB alone, over the collected objects'] = { @($collected | Where-Object Rss -gt 1MB).Count }
            $cases['Get-MemoryMapping | Where-Object Rss -gt 1MB'] = { @(Get-MemoryMapping -Id $id | Where-Object Rss -gt 1MB).Count }
            $cases['Invoke-MemoryAdvice -Advice PageOut alone, over the selected objects'] = { @($big | Invoke-MemoryAdvice -Advice PageOut).Count }
            $cases['Get-MemoryMapping | Where-Object Rss -gt 1MB | Invoke-MemoryAdvice -Advice PageOut'] = { @(Get-MemoryMapping -Id $id | Where-Object Rss -gt 1MB | Invoke-MemoryAdvice -Advice PageOut).Count }
            $cases['plain read of smaps + bare process_madvise PageOut of the same ranges'] = { $null = $R::ReadFile($smaps); $R::AdviseBare($id, $bigStarts, $bigLengths, $pageOut).Calls }

            # The ranges Set-ProcessMadvise sends, for the bare calls.
            $ranges = Get-MemoryMapping -Id $id | Where-Object Kind -notin 'Vsyscall', 'Vvar', 'Vdso', 'Special'
            [ulong[]] $starts = $ranges.Start
            [long[]] $lengths = $ranges.Size
            $cold = [int][MadvPS.MemoryAdvice]::Cold

            $samples = @{}
            foreach ($name in $cases.Keys) { $samples[$name] = [System.Collections.Generic.List[object]]::new() }
            $adviceSamples = @{ Cmdlet = [System.Collections.Generic.List[object]]::new(); Each = [System.Collections.Generic.List[object]]::new(); Bare = [System.Collections.Generic.List[object]]::new(); Core = [System.Collections.Generic.List[object]]::new(); Checked = [System.Collections.Generic.List[object]]::new() }

            # One warm-up round (JIT, page cache), then the measured ones.
            foreach ($round in 0..$Repetitions) {
                foreach ($name in $cases.Keys) {
                    $m = Measure-Case $cases[$name]
                    if ($name -like 'psutil*') {
                        $m.Wall = [double](($m.Value -split ' ')[0]); $m.Cpu = [double]::NaN
                    }
                    elseif ($name -eq 'pmap -X') { $m.Cpu = [double]::NaN }
                    if ($round -gt 0) { $samples[$name].Add($m) }
                }

                $callsBefore = [long]$callCounter.GetValue($null)
                $m = Measure-Case { Set-ProcessMadvise -Id $id -Advice Cold }
                $m | Add-Member Calls ([long]$callCounter.GetValue($null) - $callsBefore)
                if ($round -gt 0) { $adviceSamples.Cmdlet.Add($m) }
                $each = $R::AdviseEachRange($id, $starts, $lengths, $cold)
                $bare = $R::AdviseBare($id, $starts, $lengths, $cold)
                $core = $R::AdviseWithPlan($id, $cold)
                $checked = $R::AdviseWithPlan($id, $cold, $true)
                if ($round -gt 0) { $adviceSamples.Each.Add($each); $adviceSamples.Bare.Add($bare); $adviceSamples.Core.Add($core); $adviceSamples.Checked.Add($checked) }
                Write-Host "  round $round of $Repetitions done"
            }

            if ($count -eq ($Mappings | Measure-Object -Maximum).Maximum) {
                $R::ReadFile($smaps) | Out-Null
                [IO.File]::WriteAllBytes($smapsCapture, [IO.File]::ReadAllBytes($smaps))
                $capturedCount = $vmas
            }

            $reference = Get-Median ($samples['plain read of smaps (reference)'] | ForEach-Object Wall)
            $rollupReference = Get-Median ($samples['plain read of smaps_rollup'] | ForEach-Object Wall)
            $rows = foreach ($name in $cases.Keys) {
                $wall = $samples[$name] | ForEach-Object Wall
                $median = Get-Median $wall
                $cpu = $samples[$name] | ForEach-Object Cpu
                [pscustomobject]@{
                    Case   = $name
                    Median = $median
                    Min    = ($wall | Measure-Object -Minimum).Minimum
                    Max    = ($wall | Measure-Object -Maximum).Maximum
                    Cpu    = if ([double]::IsNaN($cpu[0])) { $null } else { Get-Median $cpu }
                    Ratio  = $median / $reference
                    RollupRatio = if ($name -eq 'Get-MemoryMapping -Rollup') { $median / $rollupReference } else { $null }
                }
            }
            $results["$count"] = [pscustomobject]@{ Vmas = $vmas; Rows = $rows; Selected = $big.Count }

            $cmdlet = $adviceSamples.Cmdlet
            $bareMedian = Get-Median ($adviceSamples.Bare | ForEach-Object Milliseconds)
            $lastCmdlet = $cmdlet[$cmdlet.Count - 1].Value
            $advice["$count"] = [pscustomobject]@{
                Ranges = $starts.Count
                # The kernel takes at most 1024 iovecs and MAX_RW_COUNT (0x7ffff000) bytes a call.
                Minimum = [math]::Max([math]::Ceiling($starts.Count / 1024), [math]::Ceiling(($lengths | Measure-Object -Sum).Sum / 0x7ffff000))
                ByCount = [math]::Ceiling($starts.Count / 1024)
                Rows = @(
                    [pscustomobject]@{ Case = 'bare: fewest calls, ranges packed by AdviceBatcher.Pack, calls only'; Calls = $adviceSamples.Bare[0].Calls; Median = $bareMedian; Cpu = (Get-Median ($adviceSamples.Bare | ForEach-Object CpuMilliseconds)); Bytes = $adviceSamples.Bare[0].Bytes }
                    [pscustomobject]@{ Case = 'bare: one call per range'; Calls = $adviceSamples.Each[0].Calls; Median = (Get-Median ($adviceSamples.Each | ForEach-Object Milliseconds)); Cpu = (Get-Median ($adviceSamples.Each | ForEach-Object CpuMilliseconds)); Bytes = $adviceSamples.Each[0].Bytes }
                    [pscustomobject]@{ Case = "module core: AdvicePlan.Execute (listing from $($adviceSamples.Core[0].Source) not counted)"; Calls = $adviceSamples.Core[0].Calls; Median = (Get-Median ($adviceSamples.Core | ForEach-Object Milliseconds)); Cpu = (Get-Median ($adviceSamples.Core | ForEach-Object CpuMilliseconds)); Bytes = $adviceSamples.Core[0].Bytes }
                    [pscustomobject]@{ Case = "module core: listing the mappings ($($adviceSamples.Core[0].Source))"; Calls = 0; Median = (Get-Median ($adviceSamples.Core | ForEach-Object ListMilliseconds)); Cpu = $null; Bytes = $null }
                    [pscustomobject]@{ Case = 'module core: the live range check and the calls (AdvicePlan.ExecuteChecked, maps read beside the calls)'; Calls = $adviceSamples.Checked[0].Calls; Median = (Get-Median ($adviceSamples.Checked | ForEach-Object Milliseconds)); Cpu = (Get-Median ($adviceSamples.Checked | ForEach-Object CpuMilliseconds)); Bytes = $adviceSamples.Checked[0].Bytes }
                    [pscustomobject]@{ Case = 'Set-ProcessMadvise -Advice Cold (whole cmdlet: rollup, listing, calls, rollup)'; Calls = $cmdlet[0].Calls; Median = (Get-Median ($cmdlet | ForEach-Object Wall)); Cpu = (Get-Median ($cmdlet | ForEach-Object Cpu)); Bytes = $lastCmdlet.BytesAdvised }
                )
                BareCpu = Get-Median ($adviceSamples.Bare | ForEach-Object CpuMilliseconds)
                ResultCalls = $lastCmdlet.Calls
                Skipped = $lastCmdlet.RangesSkipped
                Failed = $lastCmdlet.RangesFailed
                Bare = $bareMedian
            }

            if ('Memory' -notin $Part) { continue }
            Write-Host '  peak RSS...'
            $stream = Measure-PeakRss $id 'Get-MemoryMapping -Id PID | Measure-Object | Out-Null'.Replace('PID', $id)
            $keep = Measure-PeakRss $id '$all = Get-MemoryMapping -Id PID'.Replace('PID', $id)
            $memory.Add([pscustomobject]@{ Vmas = $vmas; Stream = $stream; Keep = $keep })
        }
        finally {
            Stop-Target $process
        }
    }

    }

    if ($PeakRssMappings -gt 0 -and 'Memory' -in $Part) {
        Write-Host "Target with --mappings $PeakRssMappings, peak RSS only..."
        $process = Start-Target $PeakRssMappings
        try {
            $id = $process.Id
            $vmas = (Get-Content "/proc/$id/maps").Count
            $stream = Measure-PeakRss $id 'Get-MemoryMapping -Id PID | Measure-Object | Out-Null'.Replace('PID', $id)
            $keep = Measure-PeakRss $id '$all = Get-MemoryMapping -Id PID'.Replace('PID', $id)
            $memory.Add([pscustomobject]@{ Vmas = $vmas; Stream = $stream; Keep = $keep })
        }
        finally {
            Stop-Target $process
        }
    }

    # --- populate: MADV_POPULATE_WRITE in a process of the bench's own -----------------------------
    if ('Populate' -in $Part) {
        $available = [long](((Get-Content /proc/meminfo) -match '^MemAvailable:')[0] -replace '\D', '') * 1KB
        $gib = $PopulateGiB
        while ($gib -gt 1 -and $available -lt ($gib + 2) * 1GB) { $gib /= 2 }
        if ($gib -ne $PopulateGiB) { $notes.Add("populate: MemAvailable was $([math]::Round($available / 1GB, 1)) GiB, so $gib GiB were populated instead of $PopulateGiB.") }
        Write-Host "MADV_POPULATE_WRITE over $gib GiB..."
        $lines = & ([Environment]::ProcessPath) $Benchmarks populate $gib $Repetitions
        if ($LASTEXITCODE -ne 0) { throw "MadvPS.Benchmarks populate failed with exit code $LASTEXITCODE." }
        $populateRuns = foreach ($line in $lines) {
            $w = $line -split ' '
            [pscustomobject]@{ Threads = [int]$w[0]; Thp = $w[1]; Start = $w[2]; Wall = [double]$w[3]; Cpu = [double]$w[4]; HugeKiB = [long]$w[5]; Warm = [double]$w[6] }
        }
        $populateResult = [pscustomobject]@{
            GiB = $gib
            Thp = (Get-Content /sys/kernel/mm/transparent_hugepage/enabled -Raw).Trim()
            Defrag = (Get-Content /sys/kernel/mm/transparent_hugepage/defrag -Raw).Trim()
            Rows = foreach ($g in $populateRuns | Group-Object Thp, Threads, Start) {
                $first = $g.Group[0]
                [pscustomobject]@{ Threads = $first.Threads; Thp = $first.Thp; Start = $first.Start
                    Wall = Get-Median ($g.Group.Wall); Min = ($g.Group.Wall | Measure-Object -Minimum).Minimum; Max = ($g.Group.Wall | Measure-Object -Maximum).Maximum
                    Cpu = Get-Median ($g.Group.Cpu); HugeKiB = ($g.Group.HugeKiB | Measure-Object -Minimum).Minimum; Warm = Get-Median ($g.Group.Warm) }
            }
        }
    }

    # --- parser allocation (BenchmarkDotNet) -------------------------------------------------------
    if ('Memory' -in $Part -and 'Mappings' -in $Part) {
    Write-Host 'BenchmarkDotNet: parser allocation over the captured smaps text...'
    $artifacts = Join-Path ([IO.Path]::GetTempPath()) "madvps-bdn-$PID"
    $env:MADVPS_BENCH_SMAPS = $smapsCapture
    & ([Environment]::ProcessPath) $Benchmarks --filter '*ParserBenchmarks*' --artifacts $artifacts | Out-Null
    Remove-Item Env:MADVPS_BENCH_SMAPS
    $json = Get-ChildItem (Join-Path $artifacts 'results') -Filter '*-report-full.json' | Select-Object -First 1
    $bdn = @{}
    if ($json) {
        foreach ($b in (Get-Content -Raw $json.FullName | ConvertFrom-Json).Benchmarks) {
            $bdn[$b.Method] = [pscustomobject]@{ Allocated = [long]$b.Memory.BytesAllocatedPerOperation; Median = $b.Statistics.Median / 1e6 }
        }
    }
    else { $notes.Add('BenchmarkDotNet wrote no results; the allocation rows are left out.') }
    Remove-Item -Recurse -Force $artifacts -ErrorAction Ignore
    }
}
finally {
    Remove-Item $smapsCapture -ErrorAction Ignore
    if ($mapCountSet) {
        # Put it back unless someone else changed it meanwhile.
        if ([int](Get-Content $mapCountPath) -eq $mapCountSet) { Set-MapCount $mapCountBefore }
    }
}

# --- the report ---------------------------------------------------------------------------------
# The raw figures beside the report, so that a report can be looked into after the run.
@{ Results = $results; Advice = $advice; Memory = $memory; Host = $hostResult; Populate = $populateResult; Bdn = $bdn; Notes = $notes } |
    Export-Clixml -Depth 6 -Path (Join-Path ([IO.Path]::GetTempPath()) 'madvps-bench-last.clixml')
$loadAfter = Get-LoadAverage
$cpuModel = ((Get-Content /proc/cpuinfo) -match '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$memTotal = [math]::Round(([long](((Get-Content /proc/meminfo) -match '^MemTotal:')[0] -replace '\D', '')) / 1MB, 1)
$os = ((Get-Content /etc/os-release) -match '^PRETTY_NAME=' | Select-Object -First 1) -replace '^PRETTY_NAME="?(.*?)"?$', '$1'
$swap = [long](((Get-Content /proc/meminfo) -match '^SwapTotal:')[0] -replace '\D', '')

$md = [System.Text.StringBuilder]::new()
function Line([string] $Text = '') { [void]$md.AppendLine($Text) }
function F([double] $Value, [int] $Digits = 1) { $Value.ToString("N$Digits", [Globalization.CultureInfo]::InvariantCulture) }
function Row([string] $Case) { $rows | Where-Object Case -eq $Case }
function Met([bool] $Ok) { if ($Ok) { 'met' } else { '**not met**' } }

Line '# Benchmarks'
Line
Line 'Written by `build.ps1 Bench` (tests/Bench/Invoke-Benchmarks.ps1); do not edit by hand, run it again.'
Line "Every case of a table ran in the same pwsh, interleaved (each round runs every case once, in"
Line "table order, after one warm-up round), and the table gives the median of $Repetitions rounds. Ratios are"
Line 'to the plain read of the same file in the same run: the kernel''s own time to generate it.'
Line
Line '## Machine'
Line
Line "- $cpuModel, $([Environment]::ProcessorCount) logical CPUs, $memTotal GiB RAM, swap $(if ($swap) { "$([math]::Round($swap / 1MB, 1)) GiB" } else { 'none' })"
Line "- $os, Linux $((Get-Content /proc/sys/kernel/osrelease -Raw).Trim())"
Line "- PowerShell $($PSVersionTable.PSVersion) on .NET $([Environment]::Version)"
Line "- Load average (1, 5, 15 min) at the start $loadBefore, at the end ${loadAfter}: the machine is shared, so wall times carry the noise of other work; CPU times (this pwsh, all threads) much less."
Line "- Run at $($started.ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC, $Repetitions rounds."
Line
Line 'Command, from the repository root:'
Line
Line '```sh'
Line $Command
Line '```'
Line

$top = ($Mappings | Measure-Object -Maximum).Maximum
if ($results.Contains("$top")) {
    $rows = $results["$top"].Rows
    $smapsRead = (Row 'plain read of smaps (reference)').Median
    $gmm = Row 'Get-MemoryMapping (all objects collected)'
    $rollup = Row 'Get-MemoryMapping -Rollup'
    $a = $advice["$top"]
    $listing = $a.Rows[3]
    $core = $a.Rows[2]
    function Row2([string] $Case) { $a.Rows | Where-Object Case -eq $Case }
    $whole = $a.Rows[5]
    function Met([bool] $Ok) { if ($Ok) { 'met' } else { '**not met**' } }
    Line "## Targets (issue 6), at $($results["$top"].Vmas) VMAs"
    Line
    $smapsCpu = (Row 'plain read of smaps (reference)').Cpu
    $rollupCpu = (Row 'plain read of smaps_rollup').Cpu
    Line '| target | measured (wall, medians) | CPU time ratio | |'
    Line '| --- | ---: | ---: | --- |'
    Line "| Get-MemoryMapping ≤ 1.1 × plain read of smaps | $(F $gmm.Ratio 2) × | $(F ($gmm.Cpu / $smapsCpu) 2) × | $(Met ($gmm.Ratio -le 1.1)) |"
    Line "| Get-MemoryMapping -Rollup ≤ 1.2 × plain read of smaps_rollup | $(F $rollup.RollupRatio 2) × | $(F ($rollup.Cpu / $rollupCpu) 2) × | $(Met ($rollup.RollupRatio -le 1.2)) |"
    Line "| listing without sizes (Set-ProcessMadvise's, from $($a.Rows[2].Case -replace '.*listing from (\w+).*', '$1')) ≤ 0.1 × plain read of smaps | $(F ($listing.Median / $smapsRead) 3) × | | $(Met ($listing.Median / $smapsRead -le 0.1)) |"
    Line "| advice: exactly ceil(n/1024) = $($a.ByCount) calls (fewest the kernel allows: $($a.Minimum)) | $($whole.Calls) calls | | $(Met ($whole.Calls -eq $a.Minimum)) |"
    Line "| advice: the module's calls (AdvicePlan.Execute) ≤ 1.1 × the bare fewest calls | $(F ($core.Median / $a.Bare) 2) × | $(F ($core.Cpu / $a.BareCpu) 2) × | $(Met ($core.Median / $a.Bare -le 1.1)) |"
    $checkedRow = Row2 'module core: the live range check and the calls (AdvicePlan.ExecuteChecked, maps read beside the calls)'
    Line "| advice: the live range check and the calls ≤ 1.2 × the calls alone (AdvicePlan.Execute) | $(F ($checkedRow.Median / $core.Median) 2) × | $(F ($checkedRow.Cpu / $core.Cpu) 2) × | $(Met ($checkedRow.Median / $core.Median -le 1.2)) |"
    Line "| advice: the whole Set-ProcessMadvise ≤ 1.1 × the bare fewest calls | $(F ($whole.Median / $a.Bare) 2) × | $(F ($whole.Cpu / $a.BareCpu) 2) × | $(Met ($whole.Median / $a.Bare -le 1.1)) |"
    $floor = $a.Bare + (Row 'plain read of maps').Median + (Row 'plain read of smaps_rollup').Median
    Line "| (not a target) the whole Set-ProcessMadvise against its kernel floor: bare calls + a read of maps + a read of smaps_rollup ($(F $floor) ms) | $(F ($whole.Median / $floor) 2) × | | |"
    Line
    Line "The plain read of maps alone takes $(F ((Row 'plain read of maps').Median / $smapsRead) 3) × the plain read of smaps here: the kernel's own floor for any listing from maps; the listing adds the parse of maps, VmLck and the mapped files' statx/statfs, and the plan."
    Line
    Line 'Met or not is judged on the wall-time medians. The CPU ratio divides the CPU time of the two (this pwsh, all threads; for the advice rows the calling thread for the core and the bare calls): it shows what our code adds to the kernel''s work, which wall time on a loaded machine does not.' 
    Line
    $parse1 = (Row 'parser, no PowerShell, one thread').Cpu
    $parseAhead = (Row 'parser, no PowerShell, read-ahead thread').Cpu
    $reader = (Row 'parser and objects, no PowerShell').Cpu
    $ours = $gmm.Cpu - $smapsCpu
    Line "Where the time of Get-MemoryMapping goes, in CPU ms (differences of the medians of the rows below, so a small part can come out negative in the noise):"
    Line
    Line '| part | CPU ms | of the kernel''s time |'
    Line '| --- | ---: | ---: |'
    Line "| the kernel generating smaps (plain read) | $(F $smapsCpu) | 1.00 |"
    Line "| our parser (one thread − plain read) | $(F ($parse1 - $smapsCpu)) | $(F (($parse1 - $smapsCpu) / $smapsCpu) 2) |"
    Line "| the read-ahead thread's copies and hand-offs | $(F ($parseAhead - $parse1)) | $(F (($parseAhead - $parse1) / $smapsCpu) 2) |"
    Line "| MemoryMapping objects and their GC | $(F ($reader - $parseAhead)) | $(F (($reader - $parseAhead) / $smapsCpu) 2) |"
    Line "| PowerShell: cmdlet, WriteObject, collecting | $(F ($gmm.Cpu - $reader)) | $(F (($gmm.Cpu - $reader) / $smapsCpu) 2) |"
    Line "| **all of ours** | $(F $ours) | $(F ($ours / $smapsCpu) 2) |"
    Line
    Line "The kernel hands smaps out one page per read(), walking each VMA's page tables as it prints it. The reader thread lets our part run on the other core while the kernel works, so with a core to spare the wall time tends to the larger of the two ($(F ([math]::Max($smapsCpu, $ours))) ms here, $(F ([math]::Max($smapsCpu, $ours) / $smapsCpu) 2) ×); with every core busy (see the load average) it tends to their sum ($(F ($smapsCpu + $ours)) ms, $(F (($smapsCpu + $ours) / $smapsCpu) 2) ×)."
    Line
}


if ($results.Contains("$top") -or $hostResult) {
    Line '## Targets (issue 18)'
    Line
    Line '| target | measured (medians) | |'
    Line '| --- | ---: | --- |'
    if ($hostResult) {
        $hr = $hostResult.Rows
        function HostRow([string] $Like) { $hr | Where-Object Case -like $Like | Select-Object -First 1 }
        $seq = (HostRow 'plain reads of every smaps_rollup, one after the other*').Median
        $byId = HostRow 'Get-MemoryMapping -Id (every PID) -Rollup'
        Line "| every process: Get-MemoryMapping -Id (every PID) -Rollup ≤ 0.8 × the plain reads of smaps_rollup one after the other | $(F ($byId.Median / $seq) 2) × | $(Met ($byId.Median / $seq -le 0.8)) |"
    }
    if ($results.Contains("$top")) {
        $rows = $results["$top"].Rows
        $gmm = Row 'Get-MemoryMapping (all objects collected)'
        $smapsRow = Row 'plain read of smaps (reference)'
        Line "| Get-MemoryMapping's CPU time ≤ 1.25 × the plain read's (at $($results["$top"].Vmas) VMAs) | $(F ($gmm.Cpu / $smapsRow.Cpu) 2) × | $(Met ($gmm.Cpu / $smapsRow.Cpu -le 1.25)) |"
        Line "| with its wall time ≤ 1.1 × the plain read's | $(F $gmm.Ratio 2) × | $(Met ($gmm.Ratio -le 1.1)) |"
    }
    Line
}

if ($hostResult) {
    Line "## Every process on the machine ($($hostResult.Processes) processes, listed once before the rounds)"
    Line
    Line "Ratios to the plain reads of every smaps_rollup one after the other (whole mappings: of every smaps) in this pwsh. Get-MemoryMapping reads $([Environment]::ProcessorCount) processes at a time and writes them in the order listed. The processes are other people's too, so their number and size move a little between rounds; a process that exits in between is an error (passed over). Load average at the end of this part: $($hostResult.Load)."
    Line
    Line '| case | median ms | × one-after-the-other reads | min–max ms | CPU ms (pwsh) | objects or lines |'
    Line '| --- | ---: | ---: | ---: | ---: | ---: |'
    $seq = ($hostResult.Rows | Where-Object Case -like 'plain reads of every smaps_rollup, one after the other*').Median
    $seqWhole = ($hostResult.Rows | Where-Object Case -like 'plain reads of every smaps, one after the other*').Median
    foreach ($row in $hostResult.Rows) {
        $base = if ($row.Case -like '*smaps,*' -or $row.Case -like '*every mapping*') { $seqWhole } else { $seq }
        Line "| $($row.Case) | $(F $row.Median) | $(F ($row.Median / $base) 2) | $(F $row.Min)–$(F $row.Max) | $(if ($null -ne $row.Cpu) { F $row.Cpu } else { 'n/a (other process)' }) | $($row.Count) |"
    }
    Line
    Line 'ps reads one stat file per process (RSS only, no PSS); smem reads every smaps in Python and sums it. The floor of a parallel read is the same plain reads spread over the CPUs: what the kernel allows.'
    Line
}

if ($results.Contains("$top")) {
    $rows = $results["$top"].Rows
    $n = $results["$top"].Vmas
    $collectedRow = Row 'Get-MemoryMapping (all objects collected)'
    $whereAlone = Row 'Where-Object Rss -gt 1MB alone, over the collected objects'
    $gmmWhere = Row 'Get-MemoryMapping | Where-Object Rss -gt 1MB'
    $adviseAlone = Row 'Invoke-MemoryAdvice -Advice PageOut alone, over the selected objects'
    $wholeRow = Row 'Get-MemoryMapping | Where-Object Rss -gt 1MB | Invoke-MemoryAdvice -Advice PageOut'
    $bareRow = Row 'plain read of smaps + bare process_madvise PageOut of the same ranges'
    if ($wholeRow -and $bareRow) {
        Line "## The headline pipeline, whole ($n VMAs, $($results["$top"].Selected) of them over 1 MB before the rounds)"
        Line
        Line '| case | median ms | × plain read + bare calls | CPU ms (pwsh) |'
        Line '| --- | ---: | ---: | ---: |'
        foreach ($r in @($bareRow, $collectedRow, $gmmWhere, $whereAlone, $adviseAlone, $wholeRow)) {
            Line "| $($r.Case) | $(F $r.Median) | $(F ($r.Median / $bareRow.Median) 2) | $(F $r.Cpu) |"
        }
        Line
        Line "Where the time goes: Where-Object alone, over objects already collected, takes $(F $whereAlone.Median) ms for $n objects, $(F ($whereAlone.Median * 1000 / $n) 2) µs an object: PowerShell's cost (a parameter binding and a property lookup through the adapter per object), not the module's. It is $(F (100 * $whereAlone.Median / $wholeRow.Median) 0) % of the whole pipeline. Get-MemoryMapping | Where-Object costs $(F ($gmmWhere.Median - $collectedRow.Median)) ms more than Get-MemoryMapping collecting every object. The advice itself (Invoke-MemoryAdvice over the selected objects) takes $(F $adviseAlone.Median) ms; PageOut of pages already paged out in an earlier round has little left to do, so the bare calls and the cmdlet both measure mostly the calls' fixed cost after the first round."
        Line
    }
}

if ($populateResult) {
    $p = $populateResult
    Line "## Populate: MADV_POPULATE_WRITE over $($p.GiB) GiB of anonymous memory in a process of the bench's own"
    Line
    Line "MadvPS.Benchmarks populate maps $($p.GiB) GiB (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 2 MiB-aligned), marks it MADV_HUGEPAGE (THP on) or MADV_NOHUGEPAGE (THP off) on the region alone, and has each thread call madvise(MADV_POPULATE_WRITE) on an equal part. 'before': every thread is created before any faults (QEMU's way); 'during': each thread starts populating as soon as it exists, while the next ones are still being created. System THP settings (unchanged): enabled $($p.Thp), defrag $($p.Defrag). Medians of $Repetitions rounds, configurations interleaved. Each measured run follows an unmeasured one of the same kind: this machine is a VM whose kernel reports free memory to the host (virtio-balloon free page reporting, page_reporting_order=$((Get-Content /sys/module/page_reporting/parameters/page_reporting_order -ErrorAction Ignore) ?? '?')), so memory freed a few seconds before has been handed back, and touching it again costs the host's faults too; the last column shows that cost, the measured run right after gets the pages just freed and shows the guest kernel's own."
    Line
    Line '| THP | threads | threads made | median ms | × 1 thread | GiB/s | min–max ms | CPU ms (all threads) | AnonHugePages after | the unmeasured run before it, ms |'
    Line '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
    foreach ($row in $p.Rows | Sort-Object @{ Expression = { $_.Thp -eq 'off' } }, Threads, Start) {
        $one = ($p.Rows | Where-Object { $_.Thp -eq $row.Thp -and $_.Threads -eq 1 }).Wall
        Line "| $($row.Thp) | $($row.Threads) | $(if ($row.Threads -eq 1) { '' } else { $row.Start }) | $(F $row.Wall) | $(F ($row.Wall / $one) 2) | $(F ($p.GiB / ($row.Wall / 1000)) 2) | $(F $row.Min)–$(F $row.Max) | $(F $row.Cpu) | $(F ($row.HugeKiB / 1MB) 2) GiB | $(F $row.Warm) |"
    }
    Line
    function PopRow([string] $Thp, [int] $Threads, [string] $Start) { $p.Rows | Where-Object { $_.Thp -eq $Thp -and $_.Threads -eq $Threads -and ($Threads -eq 1 -or $_.Start -eq $Start) } | Select-Object -First 1 }
    $on1 = PopRow on 1 before; $on2 = PopRow on 2 before; $on2d = PopRow on 2 during; $on4 = PopRow on 4 before
    $off1 = PopRow off 1 before; $off2 = PopRow off 2 before; $off2d = PopRow off 2 during; $off4 = PopRow off 4 before
    Line 'What the time is (Linux 6.18, mm/madvise.c and mm/gup.c): madvise_populate takes the mmap lock for reading and faults every page of the range in as a write fault would, in a loop (faultin_page_range). Each fault allocates a page from the buddy allocator (the zone lock, amortised by the per-CPU page lists), charges it, zeroes it and installs it under the page table lock. With THP allowed, one fault maps a 2 MiB page (one PMD lock, one clear_huge_page of 512 pages, 512 times fewer faults); refused, it is 4 KiB pages, one PTE lock per page-table page. With defrag set to madvise, a huge-page fault in a MADV_HUGEPAGE region that finds no free 2 MiB block compacts memory there and then (direct compaction), so the THP-on rows also carry the cost of how fragmented the machine''s memory is at that moment: on a shared machine that varies from run to run (the min–max column). The zeroing is the bulk of it otherwise: the CPU writes every byte once, so the work grows with the bytes, and the threads, each on its own part, share nothing but the read side of the mmap lock, the zone lock and the memory bus.'
    Line
    $workSame = ($on2.Cpu / $on1.Cpu -lt 1.2) -and ($off2.Cpu / $off1.Cpu -lt 1.2)
    $duringCost = [math]::Max($on2d.Wall / $on2.Wall, $off2d.Wall / $off2.Wall)
    $measured = "Measured here: THP on, one thread populates at $(F ($p.GiB / ($on1.Wall / 1000)) 2) GiB/s and THP off at $(F ($p.GiB / ($off1.Wall / 1000)) 2) GiB/s ($(F ($off1.Wall / $on1.Wall) 2) × the time of THP on). Two threads made before the faults take $(F ($on2.Wall / $on1.Wall) 2) × the time of one (THP on) and $(F ($off2.Wall / $off1.Wall) 2) × (THP off); their CPU time is $(F ($on2.Cpu / $on1.Cpu) 2) × and $(F ($off2.Cpu / $off1.Cpu) 2) × that of one thread"
    $measured += if ($workSame) { ', so the work stays the same and two cores share it.' } else { ', so the threads also add work of their own (waiting on shared locks and cache lines, or other load on the machine).' }
    $measured += " Four threads on $([Environment]::ProcessorCount) CPUs take $(F ($on4.Wall / $on1.Wall) 2) × (THP on) and $(F ($off4.Wall / $off1.Wall) 2) × (THP off): past the CPUs a thread can only wait for a turn. Made while the first thread already faults, two threads take $(F ($on2d.Wall / $on2.Wall) 2) × (THP on) and $(F ($off2d.Wall / $off2.Wall) 2) × (THP off) the time of two made before."
    $measured += if ($duringCost -gt 1.1) { ' Creating a thread maps its stack, and mmap takes the mmap lock for writing, which waits for the populating thread''s read hold; once a writer waits, the rwsem lets no new reader in, so the threads after it start late: the contention QEMU avoids by creating all its threads first.' } else { ' Here that costs no more than the noise: the stack of a new thread was mapped before the lock was held for long, or the runtime reused a stack it had; the mmap lock a thread''s creation takes for writing can still wait for a populating thread''s read hold, which is why QEMU creates all its threads first.' }
    $measured += ' The load on this shared machine (see above) moves the wall times; compare the ratios within this table.'
    Line $measured
    Line
    Line 'With more cores: the zeroing and the faults of disjoint parts run side by side, so the time falls with the threads until the memory bandwidth of the socket (or the zone lock, for 4 KiB pages) is the limit, on a large machine well past two threads; the cost of making threads during the faults grows with them, since every mmap of a stack waits for the readers that hold the lock.'
    Line
    Line 'Prefaulting and the module: the kernel accepts MADV_POPULATE_READ and MADV_POPULATE_WRITE only from madvise() on the caller''s own memory; process_madvise refuses them for another process (process_madvise_remote_valid allows Cold, PageOut, WillNeed and Collapse), so MadvPS, whose work is other processes, cannot prefault a service''s memory. It could prefault only the memory of its own pwsh, which is not what an operator manages, so it offers no cmdlet for it; a program that wants its memory populated is the one to call madvise, and it should create its threads before they fault, as QEMU does.'
    Line
}

if ($hostResult -and $results.Contains("$top")) {
    $rows = $results["$top"].Rows
    $hr = $hostResult.Rows
    $seq = ($hr | Where-Object Case -like 'plain reads of every smaps_rollup, one after the other*').Median
    $floorRow = $hr | Where-Object Case -like 'plain reads of every smaps_rollup, * at a time*'
    $byId = $hr | Where-Object Case -eq 'Get-MemoryMapping -Id (every PID) -Rollup'
    $core = $hr | Where-Object Case -like 'module core, one after the other*'
    $gmm = Row 'Get-MemoryMapping (all objects collected)'
    $smapsRow = Row 'plain read of smaps (reference)'
    $one = Row 'parser, no PowerShell, one thread'
    $ahead = Row 'parser, no PowerShell, read-ahead thread'
    $objects = Row 'parser and objects, no PowerShell'
    Line '## Closing note (issue 18)'
    Line
    Line "- Every process at once: Get-MemoryMapping -Id (every PID) -Rollup took $(F ($byId.Median / $seq) 2) × the plain reads one after the other ($(Met ($byId.Median / $seq -le 0.8)) against 0.8 ×). The same plain reads $([Environment]::ProcessorCount) at a time, the floor of any parallel read, took $(F ($floorRow.Median / $seq) 2) ×: on this machine's $($hostResult.Processes) processes, most of them small or kernel threads, a read of smaps_rollup is some $(F (1000 * $seq / [math]::Max(1, $byId.Count)) 0) µs, so there is little kernel work to share out and fixed costs decide. The module's own part, one after the other and without PowerShell, is $(F ($core.Cpu - $hostResult.Rows[0].Cpu)) CPU ms over the plain reads (the stat read that fixes each process's identity, its name, the object); the window that reads in parallel and writes in order adds $(F ($byId.Cpu - $core.Cpu)) CPU ms more (a thread-pool hand-off and a channel per process, and the waits of the pipeline thread), which on two busy CPUs costs wall time too. The figures of this part vary from run to run more than the others: they are a few ms each, on processes that are not ours."
    Line "- CPU per mapping: Get-MemoryMapping's CPU time is $(F ($gmm.Cpu / $smapsRow.Cpu) 2) × the plain read's ($(Met ($gmm.Cpu / $smapsRow.Cpu -le 1.25)) against 1.25 ×), its wall time $(F $gmm.Ratio 2) × ($(Met ($gmm.Ratio -le 1.1)) against 1.1 ×). What is left is the parser ($(F ($one.Cpu - $smapsRow.Cpu)) ms: some 24 lines an entry, about $(F (1e6 * ($one.Cpu - $smapsRow.Cpu) / ($results["$top"].Vmas * 24)) 0) ns a line), the read-ahead ($(F ($ahead.Cpu - $one.Cpu)) ms: the bytes the reader thread's kernel reads write on one core are read on the other), the objects ($(F ($objects.Cpu - $ahead.Cpu)) ms) and PowerShell's WriteObject ($(F ($gmm.Cpu - $objects.Cpu)) ms). Changes tried and measured by thread CPU time over the captured text (least of 15 parses): the size block copied into each object as one inline array instead of 21 properties, and a hand-written digit loop in the fast path instead of Utf8Parser: neither moved the parse by more than the noise (about 44 ms either way); the inline array stays for the one list of size fields, the digit loop was not kept."
    Line "- The headline pipeline: see its section; Where-Object's own cost per object is PowerShell's, and it is most of what the pipeline adds to Get-MemoryMapping."
    Line
}

foreach ($count in $results.Keys) {
    $r = $results["$count"]
    Line "## Reading the mappings: target with --mappings $count ($($r.Vmas) VMAs)"
    Line
    Line '| case | median ms | × plain read of smaps | min–max ms | CPU ms (pwsh) |'
    Line '| --- | ---: | ---: | ---: | ---: |'
    foreach ($row in $r.Rows) {
        $ratio = "$(F $row.Ratio 2)"
        if ($null -ne $row.RollupRatio) { $ratio += " (× smaps_rollup read: $(F $row.RollupRatio 2))" }
        Line "| $($row.Case) | $(F $row.Median) | $ratio | $(F $row.Min)–$(F $row.Max) | $(if ($null -ne $row.Cpu) { F $row.Cpu } else { 'n/a (other process)' }) |"
    }
    Line
}

foreach ($count in $advice.Keys) {
    $a = $advice["$count"]
    Line "## Advice: Set-ProcessMadvise -Advice Cold on every range, --mappings $count ($($a.Ranges) ranges; ceil(n/1024) = $($a.ByCount); with MAX_RW_COUNT bytes a call, at least $($a.Minimum) calls)"
    Line
    Line '| case | calls | median ms | µs per range | × bare fewest calls | CPU ms | bytes advised |'
    Line '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'
    foreach ($row in $a.Rows) {
        Line "| $($row.Case) | $($row.Calls) | $(F $row.Median) | $(F ($row.Median * 1000 / $a.Ranges) 2) | $(F ($row.Median / $a.Bare) 2) | $(if ($null -ne $row.Cpu) { F $row.Cpu } else { '' }) | $(if ($null -ne $row.Bytes) { $row.Bytes } else { '' }) |"
    }
    Line
    Line 'CPU ms: the calling thread for the bare calls and AdvicePlan.Execute (mostly the kernel''s time in process_madvise), all threads of the pwsh for the cmdlet.' 
    Line
    Line "Set-ProcessMadvise reported Calls = $($a.ResultCalls), RangesSkipped = $($a.Skipped), RangesFailed = $($a.Failed); the calls column counts process_madvise calls with the interop's counter (Libc.ProcessMadviseCalls)."
    Line
}

if ($memory.Count -or $bdn.Count) {
Line '## Memory'
Line
if ($bdn.Count) {
    $perMapping = ($bdn['Mappings'].Allocated - $bdn['Entries'].Allocated) / $capturedCount
    Line "BenchmarkDotNet's memory diagnoser on the parser over the captured smaps text of the $capturedCount-VMA target (no kernel, in-process toolchain):"
    Line
    Line '| case | allocated per parse | per mapping | median ms |'
    Line '| --- | ---: | ---: | ---: |'
    Line "| SmapsParser: entries only | $($bdn['Entries'].Allocated) B | $(F ($bdn['Entries'].Allocated / $capturedCount) 1) B | $(F $bdn['Entries'].Median) |"
    Line "| SmapsParser + MemoryMapping objects | $($bdn['Mappings'].Allocated) B | $(F ($bdn['Mappings'].Allocated / $capturedCount) 1) B | $(F $bdn['Mappings'].Median) |"
    Line
    Line "The parser allocates no string per line: an entry costs nothing past the fixed buffers; a mapping costs $(F $perMapping 0) B, its MemoryMapping object ($([MadvPS.Benchmarks.References]::MemoryMappingSize()) B measured alone) and nothing else that grows with the count."
    Line
}
Line 'Peak RSS of a fresh pwsh (VmHWM after clear_refs 5) above its RSS just before the pipeline:'
Line
Line '| VMAs | streamed to Measure-Object | all objects kept in a variable |'
Line '| ---: | ---: | ---: |'
foreach ($m in $memory | Sort-Object Vmas) {
    Line "| $($m.Vmas) | $(F (($m.Stream.Peak - $m.Stream.Before) / 1MB)) MiB | $(F (($m.Keep.Peak - $m.Keep.Before) / 1MB)) MiB |"
}
Line
Line 'Streamed, the objects die young: the peak is the GC''s gen0 budget (a property of the runtime and the CPU''s cache), reached once a few MB have been allocated, and stays there however many mappings follow. Kept in a variable, each mapping costs its object.'
Line
}
if ($notes.Count) {
    Line '## Notes'
    Line
    foreach ($n in $notes) { Line "- $n" }
    Line
}

# The reclaim section is written by tests/Bench/Reclaim.Bench.ps1 (it needs swap and the host lock): keep it.
$reclaimSection = if (Test-Path $Output) { [regex]::Match((Get-Content -Raw $Output), '(?s)<!-- reclaim-bench.*?<!-- /reclaim-bench -->').Value } else { '' }
if ($reclaimSection) { [void]$md.AppendLine().AppendLine($reclaimSection) }
# Export-MemoryMap's section comes from tests/Bench/MemoryMap.Bench.ps1 and a browser: keep it too.
$memoryMapSection = if (Test-Path $Output) { [regex]::Match((Get-Content -Raw $Output), '(?s)## Export-MemoryMap \(issue 16\).*?(?=\n## |\z)').Value } else { '' }
if ($memoryMapSection) { [void]$md.AppendLine().AppendLine($memoryMapSection.TrimEnd()) }
Set-Content -Path $Output -Value $md.ToString().TrimEnd() -Encoding utf8NoBOM
Write-Host $md.ToString()
Write-Host "Wrote $Output"

# Get-MemoryPage's section (issue 15), added to the same file by its own script.
& (Join-Path $PSScriptRoot 'Pages.Bench.ps1') -Module $Module -Target $Target -Output $Output
