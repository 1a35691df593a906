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
$advice = [ordered]@{}
$memory = [System.Collections.Generic.List[object]]::new()
$loadBefore = Get-LoadAverage
$smapsCapture = Join-Path ([IO.Path]::GetTempPath()) "madvps-bench-smaps-$PID.txt"

try {
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
            $results["$count"] = [pscustomobject]@{ Vmas = $vmas; Rows = $rows }

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
                    [pscustomobject]@{ Case = 'module core: the live range check (AdvicePlan.CheckLive, one read of maps) + AdvicePlan.Execute'; Calls = $adviceSamples.Checked[0].Calls; Median = (Get-Median ($adviceSamples.Checked | ForEach-Object Milliseconds)); Cpu = (Get-Median ($adviceSamples.Checked | ForEach-Object CpuMilliseconds)); Bytes = $adviceSamples.Checked[0].Bytes }
                    [pscustomobject]@{ Case = 'Set-ProcessMadvise -Advice Cold (whole cmdlet: rollup, listing, calls, rollup)'; Calls = $cmdlet[0].Calls; Median = (Get-Median ($cmdlet | ForEach-Object Wall)); Cpu = (Get-Median ($cmdlet | ForEach-Object Cpu)); Bytes = $lastCmdlet.BytesAdvised }
                )
                BareCpu = Get-Median ($adviceSamples.Bare | ForEach-Object CpuMilliseconds)
                ResultCalls = $lastCmdlet.Calls
                Skipped = $lastCmdlet.RangesSkipped
                Failed = $lastCmdlet.RangesFailed
                Bare = $bareMedian
            }

            Write-Host '  peak RSS...'
            $stream = Measure-PeakRss $id 'Get-MemoryMapping -Id PID | Measure-Object | Out-Null'.Replace('PID', $id)
            $keep = Measure-PeakRss $id '$all = Get-MemoryMapping -Id PID'.Replace('PID', $id)
            $memory.Add([pscustomobject]@{ Vmas = $vmas; Stream = $stream; Keep = $keep })
        }
        finally {
            Stop-Target $process
        }
    }

    if ($PeakRssMappings -gt 0) {
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

    # --- parser allocation (BenchmarkDotNet) -------------------------------------------------------
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
finally {
    Remove-Item $smapsCapture -ErrorAction Ignore
    if ($mapCountSet) {
        # Put it back unless someone else changed it meanwhile.
        if ([int](Get-Content $mapCountPath) -eq $mapCountSet) { Set-MapCount $mapCountBefore }
    }
}

# --- the report ---------------------------------------------------------------------------------
$loadAfter = Get-LoadAverage
$cpuModel = ((Get-Content /proc/cpuinfo) -match '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', ''
$memTotal = [math]::Round(([long](((Get-Content /proc/meminfo) -match '^MemTotal:')[0] -replace '\D', '')) / 1MB, 1)
$os = ((Get-Content /etc/os-release) -match '^PRETTY_NAME=' | Select-Object -First 1) -replace '^PRETTY_NAME="?(.*?)"?$', '$1'
$swap = [long](((Get-Content /proc/meminfo) -match '^SwapTotal:')[0] -replace '\D', '')

$md = [System.Text.StringBuilder]::new()
function Line([string] $Text = '') { [void]$md.AppendLine($Text) }
function F([double] $Value, [int] $Digits = 1) { $Value.ToString("N$Digits", [Globalization.CultureInfo]::InvariantCulture) }

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
    function Row([string] $Case) { $rows | Where-Object Case -eq $Case }
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
    $checkedRow = Row2 'module core: the live range check (AdvicePlan.CheckLive, one read of maps) + AdvicePlan.Execute'
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
if ($notes.Count) {
    Line '## Notes'
    Line
    foreach ($n in $notes) { Line "- $n" }
    Line
}

Set-Content -Path $Output -Value $md.ToString().TrimEnd() -Encoding utf8NoBOM
Write-Host $md.ToString()
Write-Host "Wrote $Output"
