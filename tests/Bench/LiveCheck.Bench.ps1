#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The cost of Invoke-MemoryAdvice's live range check on the 60,000-mapping target, before and after the overlap.
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
    of the calling thread's CPU and of the whole process's CPU. Prints a markdown section for
    docs/benchmarks.md. 60,000 mappings fit under the default vm.max_map_count (65530).
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

$info = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
foreach ($a in @((Resolve-Path $Target).Path, '--mappings', [string]$Mappings)) { $info.ArgumentList.Add($a) }
$info.RedirectStandardInput = $true
$info.RedirectStandardOutput = $true
$info.UseShellExecute = $false
$process = [System.Diagnostics.Process]::Start($info)
try {
    while ($true) {
        $line = $process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The target exited before it was ready (vm.max_map_count is $(Get-Content /proc/sys/vm/max_map_count))." }
        if ($line -eq 'ready') { break }
    }
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
    $loadAfter = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '

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
    @(
        "Command: ``dotnet pwsh -NoProfile tests/Bench/LiveCheck.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Benchmarks out/bench/MadvPS.Benchmarks.dll``; $($last['Unchecked'].Count) ranges, each with its mapping's identity; medians of $Repetitions interleaved rounds after a warm-up; load average $loadBefore at the start, $loadAfter at the end; $([Environment]::ProcessorCount) CPUs; Linux $((Get-Content /proc/sys/kernel/osrelease)); run at $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC."
        ''
        '| case | calls | wall ms | × unchecked | calling thread CPU ms | × | process CPU ms (all threads) | × |'
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
        (Row 'sent unchecked (AdvicePlan.Execute), the reference' 'Unchecked')
        (Row 'before: one read of maps, every range checked, then the calls' 'Before')
        (Row 'after: each call''s ranges checked as maps is read beside the calls (AdvicePlan.ExecuteChecked)' 'After')
        "| plain read of /proc/PID/maps (the kernel's time to print it) | 0 | $(F $median['Maps'].Wall) | $(F ($median['Maps'].Wall / $u.Wall) 2) × | | | | |"
        (Row 'control: sent unchecked while a second thread only spins (is a second core free?)' 'Spin')
        (Row 'control: sent unchecked while a second thread reads maps in a loop' 'MapsLoop')
        ''
        "Target ""the check costs at most 1.2 × the advice without it"" (wall): **$met** ($(F ($median['After'].Wall / $u.Wall) 2) ×)."
    ) -join "`n"
}
finally {
    if (-not $process.HasExited) {
        $process.StandardInput.WriteLine('exit')
        if (-not $process.WaitForExit(10000)) { $process.Kill() }
    }
}
