#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The cost of Invoke-MemoryAdvice's live range check on 60,000 one-page ranges: Cold (the cheapest advice), and PageOut of resident file pages.
.DESCRIPTION
    Starts the target program with --mappings N (as Invoke-Benchmarks.ps1 does) and, interleaved
    over -Repetitions rounds after a warm-up (each round runs every case once, the order turned by
    one each round), times with References.AdviseChecked the advice Cold of every mapping's range,
    each range carrying its mapping's identity as Get-MemoryMapping's objects do:
      - sent unchecked (AdvicePlan.Execute): the reference;
      - checked against one read of /proc/PID/maps before the first call, then sent (the check as
        it was before the overlap: LiveMappings.Read, LiveMappings.Check, Execute);
      - checked as maps is read beside the calls (AdvicePlan.ExecuteChecked, what
        Invoke-MemoryAdvice does);
    a plain read of /proc/PID/maps (the kernel's own time to print it); and, as controls, the
    unchecked advice while a second thread only spins (the overlap can win only if a second core
    is free: then this is close to the reference) and while it reads maps in a loop (what the
    kernel's printing of maps costs the calls beside it). Medians of wall time,
    of the calling thread's CPU and of the whole process's CPU. Beside them: our parse of maps
    alone (text in memory, thread CPU), the check alone (References.CheckCpu), and every VMA
    listed by PROCMAP_QUERY instead of by one read of maps.

    Then the issue's headline pipeline, PageOut: a second target with --file-mappings N (N
    one-page private mappings of one file on disk, none merged), whose pages the target reads in
    again before every case of every round (touch), so that each run pages out real memory
    (file pages need no swap). Unchecked (AdvicePlan.Execute) against checked
    (AdvicePlan.ExecuteChecked), interleaved, medians; the resident bytes before and after each run
    (mincore in the target) say that the pages were there and went.

    Prints a markdown section for docs/benchmarks.md. 60,000 mappings fit under the default
    vm.max_map_count (65530).
.EXAMPLE
    dotnet pwsh -NoProfile tests/Bench/LiveCheck.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Benchmarks out/bench/MadvPS.Benchmarks.dll
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Target,
    [Parameter(Mandatory)] [string] $Benchmarks,
    [int] $Mappings = 60000,
    [ValidateRange(5, 100)] [int] $Repetitions = 15
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Resolve-Path $Module).Path -Force
Add-Type -Path (Resolve-Path $Benchmarks).Path
$R = [MadvPS.Benchmarks.References]

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $n = $sorted.Count
    if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}

# Starts the target with these options; returns the process and its regions (name -> start, length).
function Start-Target([string[]] $Options) {
    $info = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    foreach ($a in @((Resolve-Path $Target).Path) + $Options) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $started = [System.Diagnostics.Process]::Start($info)
    $regions = @{}
    while ($true) {
        $line = $started.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The target exited before it was ready (vm.max_map_count is $(Get-Content /proc/sys/vm/max_map_count))." }
        if ($line -match '^region (\S+) 0x([0-9a-f]+) (\d+)$') { $regions[$Matches[1]] = [pscustomobject]@{ Start = [Convert]::ToUInt64($Matches[2], 16); Length = [uint64]$Matches[3] } }
        if ($line -eq 'ready') { break }
    }
    [pscustomobject]@{ Process = $started; Regions = $regions }
}

function Stop-Target($Started) {
    if ($Started -and -not $Started.Process.HasExited) {
        $Started.Process.StandardInput.WriteLine('exit')
        if (-not $Started.Process.WaitForExit(10000)) { $Started.Process.Kill() }
    }
}

function Send-Target($Started, [string] $Command) {
    $Started.Process.StandardInput.WriteLine($Command)
    $Started.Process.StandardOutput.ReadLine()
}

$first = $null
$second = $null
try {
    $first = Start-Target @('--mappings', [string]$Mappings)
    $process = $first.Process
    $id = $process.Id
    $cold = [int][MadvPS.MemoryAdvice]::Cold
    $loadBefore = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '
    $cases = [ordered]@{
        Unchecked = { $R::AdviseChecked($id, $cold, 0, $true) }
        Before    = { $R::AdviseChecked($id, $cold, 1, $true) }
        After     = { $R::AdviseChecked($id, $cold, 2, $true) }
        Maps      = { $R::ReadFile("/proc/$id/maps") }
        Spin      = { $R::AdviseBesideReads($id, $cold, 'spin') }
        MapsLoop  = { $R::AdviseBesideReads($id, $cold, 'maps') }
    }
    $names = @($cases.Keys)
    $samples = @{}
    foreach ($name in $names) { $samples[$name] = [System.Collections.Generic.List[object]]::new() }
    $last = @{}
    foreach ($round in 0..$Repetitions) {
        for ($k = 0; $k -lt $names.Count; $k++) {
            $name = $names[($k + $round) % $names.Count]
            $run = & $cases[$name]
            if ($round -gt 0) { $samples[$name].Add($run) }
            $last[$name] = $run
        }
    }
    $mapsText = [IO.File]::ReadAllBytes("/proc/$id/maps")
    $parseCpu = $R::ParseMapsCpu($mapsText, 4 * $Repetitions)
    $checkCpu = $R::CheckCpu($id)
    $queries = @(foreach ($k in 1..$Repetitions) { $R::QueryEveryVma($id) })
    $loadAfter = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '
    Stop-Target $first

    # PageOut of resident file pages: the target reads every page in again before each run.
    $second = Start-Target @('--file-mappings', [string]$Mappings)
    $fileId = $second.Process.Id
    $region = $second.Regions['filemany']
    $pageOut = [int][MadvPS.MemoryAdvice]::PageOut
    $fileDir = if ($env:MADVPS_TARGET_DIR) { $env:MADVPS_TARGET_DIR } else { '/var/tmp' }
    $loadPageOutBefore = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '
    $pageOutNames = @('Unchecked', 'Checked', 'MapsLoop')
    $pageOutSamples = @{}
    foreach ($name in $pageOutNames) { $pageOutSamples[$name] = [System.Collections.Generic.List[object]]::new() }
    $fileMaps = [System.Collections.Generic.List[object]]::new()
    $pageOutLast = @{}
    foreach ($round in 0..$Repetitions) {
        for ($k = 0; $k -lt $pageOutNames.Count; $k++) {
            $name = $pageOutNames[($k + $round) % $pageOutNames.Count]
            if ((Send-Target $second 'touch filemany') -ne 'touched') { throw 'The target did not read its pages in.' }
            $before = [long]((Send-Target $second 'resident filemany').Split(' ')[1])
            $run = switch ($name) {
                'Unchecked' { $R::AdviseChecked($fileId, $pageOut, 0, $true, $region.Start, $region.Start + $region.Length) }
                'Checked' { $R::AdviseChecked($fileId, $pageOut, 2, $true, $region.Start, $region.Start + $region.Length) }
                'MapsLoop' { $R::AdviseBesideReads($fileId, $pageOut, 'maps', $region.Start, $region.Start + $region.Length) }
            }
            $after = [long]((Send-Target $second 'resident filemany').Split(' ')[1])
            $sample = [pscustomobject]@{ Run = $run; Before = $before; After = $after }
            # The first round warms up (and splits the large folios the file was written into).
            if ($round -gt 0) { $pageOutSamples[$name].Add($sample) }
            $pageOutLast[$name] = $sample
        }

        $mapsRead = $R::ReadFile("/proc/$fileId/maps")
        if ($round -gt 0) { $fileMaps.Add($mapsRead) }
    }
    $loadPageOutAfter = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '
    if ($pageOutLast['Checked'].Run.Bytes -ne $pageOutLast['Unchecked'].Run.Bytes -or $pageOutLast['Checked'].Run.Count -ne $Mappings) {
        throw "PageOut: checked advised $($pageOutLast['Checked'].Run.Bytes) bytes in $($pageOutLast['Checked'].Run.Count) ranges, unchecked $($pageOutLast['Unchecked'].Run.Bytes)."
    }

    $median = @{}
    foreach ($name in $names) {
        $median[$name] = [pscustomobject]@{
            Wall    = Get-Median ($samples[$name] | ForEach-Object Milliseconds)
            Thread  = Get-Median ($samples[$name] | ForEach-Object CpuMilliseconds)
            Process = Get-Median ($samples[$name] | ForEach-Object ProcessCpuMilliseconds)
        }
    }
    foreach ($name in 'Unchecked', 'Before', 'After', 'Spin', 'MapsLoop') {
        if ($last[$name].Bytes -ne $last['Unchecked'].Bytes) { throw "$name advised $($last[$name].Bytes) bytes, the unchecked run $($last['Unchecked'].Bytes): a range changed during the run." }
    }
    $u = $median['Unchecked']
    function F([double] $Value, [int] $Digits = 1) { $Value.ToString("F$Digits", [Globalization.CultureInfo]::InvariantCulture) }
    function Row([string] $Case, [string] $Name) {
        $m = $median[$Name]
        "| $Case | $($last[$Name].Calls) | $(F $m.Wall) | $(F ($m.Wall / $u.Wall) 2) × | $(F $m.Thread) | $(F ($m.Thread / $u.Thread) 2) × | $(F $m.Process) | $(F ($m.Process / $u.Process) 2) × |"
    }
    $met = if ($median['After'].Wall / $u.Wall -le 1.2) { 'met' } else { 'not met' }
    $po = @{}
    foreach ($name in $pageOutNames) {
        $po[$name] = [pscustomobject]@{
            Wall    = Get-Median ($pageOutSamples[$name] | ForEach-Object { $_.Run.Milliseconds })
            Thread  = Get-Median ($pageOutSamples[$name] | ForEach-Object { $_.Run.CpuMilliseconds })
            Process = Get-Median ($pageOutSamples[$name] | ForEach-Object { $_.Run.ProcessCpuMilliseconds })
            Before  = Get-Median ($pageOutSamples[$name] | ForEach-Object Before)
            After   = Get-Median ($pageOutSamples[$name] | ForEach-Object After)
        }
    }

    $pu = $po['Unchecked']
    function PageOutRow([string] $Case, [string] $Name) {
        $m = $po[$Name]
        "| $Case | $($pageOutLast[$Name].Run.Calls) | $(F $m.Wall) | $(F ($m.Wall / $pu.Wall) 2) × | $(F $m.Thread) | $(F ($m.Thread / $pu.Thread) 2) × | $(F $m.Process) | $(F ($m.Process / $pu.Process) 2) × | $(F ($m.Before / 1MB)) | $(F ($m.After / 1MB)) |"
    }
    $pageOutMet = if ($po['Checked'].Wall / $pu.Wall -le 1.2) { 'met' } else { 'not met' }
    $query = [pscustomobject]@{ Wall = Get-Median ($queries | ForEach-Object Milliseconds); Cpu = Get-Median ($queries | ForEach-Object CpuMilliseconds) }
    @(
        "Command: ``dotnet pwsh -NoProfile tests/Bench/LiveCheck.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Benchmarks out/bench/MadvPS.Benchmarks.dll``; $($last['Unchecked'].Count) ranges, each with its mapping's identity; medians of $Repetitions interleaved rounds after a warm-up; load average $loadBefore at the start, $loadAfter at the end; $([Environment]::ProcessorCount) CPUs; Linux $((Get-Content /proc/sys/kernel/osrelease)); run at $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC."
        ''
        '| case | calls | wall ms | × unchecked | calling thread CPU ms | × | process CPU ms (all threads) | × |'
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
        (Row 'sent unchecked (AdvicePlan.Execute), the reference' 'Unchecked')
        (Row 'before: one read of maps, every range checked, then the calls' 'Before')
        (Row 'after: each call''s ranges checked as maps is read beside the calls (AdvicePlan.ExecuteChecked)' 'After')
        "| plain read of /proc/PID/maps (the kernel's time to print it) | 0 | $(F $median['Maps'].Wall) | $(F ($median['Maps'].Wall / $u.Wall) 2) × | $(F $median['Maps'].Thread) | $(F ($median['Maps'].Thread / $u.Thread) 2) × | | |"
        (Row 'control: sent unchecked while a second thread only spins (is a second core free?)' 'Spin')
        (Row 'control: sent unchecked while a second thread reads maps in a loop' 'MapsLoop')
        "| every VMA by PROCMAP_QUERY, one ioctl each, no parse (instead of one read) | 0 | $(F $query.Wall) | $(F ($query.Wall / $u.Wall) 2) × | $(F $query.Cpu) | $(F ($query.Cpu / $u.Thread) 2) × | | |"
        ''
        "Our parse alone (MapsParser, which LiveMapsFeed reads with), over this maps text held in memory ($($mapsText.Length) bytes): $(F $parseCpu 2) ms of thread CPU (least of $(4 * $Repetitions)); the check of every range against the VMAs (References.CheckCpu): $checkCpu."
        ''
        "Cold, target ""the check costs at most 1.2 × the advice without it"" (wall): **$met** ($(F ($median['After'].Wall / $u.Wall) 2) ×)."
        ''
        "PageOut of $($pageOutLast['Checked'].Run.Count) one-page private file mappings (--file-mappings $Mappings, a file of $(F ($region.Length / 1MB)) MiB in $fileDir, $((& stat -f -c %T $fileDir))), every page read in again by the target before each run; medians of $Repetitions interleaved rounds after a warm-up; load average $loadPageOutBefore at the start, $loadPageOutAfter at the end."
        ''
        '| case | calls | wall ms | × unchecked | calling thread CPU ms | × | process CPU ms (all threads) | × | resident MiB before | after |'
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
        (PageOutRow 'PageOut sent unchecked (AdvicePlan.Execute), the reference' 'Unchecked')
        (PageOutRow 'PageOut checked as maps is read beside the calls (AdvicePlan.ExecuteChecked)' 'Checked')
        "| plain read of this target's /proc/PID/maps (60,000 file lines: the kernel prints each path) | 0 | $(F (Get-Median ($fileMaps | ForEach-Object Milliseconds))) | $(F ((Get-Median ($fileMaps | ForEach-Object Milliseconds)) / $pu.Wall) 2) × | $(F (Get-Median ($fileMaps | ForEach-Object CpuMilliseconds))) | $(F ((Get-Median ($fileMaps | ForEach-Object CpuMilliseconds)) / $pu.Thread) 2) × | | | | |"
        (PageOutRow 'control: PageOut sent unchecked while a second thread reads maps in a loop' 'MapsLoop')
        ''
        "PageOut, target ""the check costs at most 1.2 × the advice without it"" (wall): **$pageOutMet** ($(F ($po['Checked'].Wall / $pu.Wall) 2) ×)."
    ) -join "`n"
}
finally {
    Stop-Target $first
    Stop-Target $second
}
