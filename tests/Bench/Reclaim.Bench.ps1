#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Invoke-MemoryReclaim against a one-shot Set-ProcessMadvise -MappingType All -Advice PageOut on
    the same workload, side by side in one run.
.DESCRIPTION
    The workload: the project's target program with a 64 MiB anonymous region that a thread reads
    every 20 ms (touch-loop-timed, each pass timed) and 60 MiB that nothing touches (32 MiB
    anonymous, 28 MiB of a private file mapping). Each round starts a fresh target for each
    strategy, in turn:
      - baseline: 3 s of passes before anything is advised;
      - during: the passes while the strategy runs (the loop until it ends; the one-shot call and
        the 3 s after it, when the process faults back what it took);
      - after: 3 s of passes after that.
    Measured by the bench itself: cold bytes taken (pagemap, bit 63, of the cold regions before
    and after), hot pages refaulted (the target's minflt + majflt from /proc/PID/stat during the
    strategy, over the hot region's pages), the pass time during and after against the baseline
    (means, and the slowest pass), and the loop's own CPU (this pwsh's user + system time over the
    run, per step). Medians over -Rounds rounds. Needs root and a swap file, which it makes and
    removes: run it under `flock /tmp/madvps-host.lock`.
    Prints a markdown section; -Output writes it into docs/benchmarks.md between its markers.
.EXAMPLE
    flock /tmp/madvps-host.lock dotnet pwsh -NoProfile tests/Bench/Reclaim.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Output docs/benchmarks.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Target,
    [string] $Output,
    [ValidateRange(1, 20)] [int] $Rounds = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Resolve-Path $Module).Path -Force
$env:MADVPS_TARGET = (Resolve-Path $Target).Path
Import-Module (Join-Path $PSScriptRoot '../Pester/TestHelpers.psm1') -Force

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $n = $sorted.Count
    if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}

function Get-PresentBytes([int] $Id, [ulong] $Start, [long] $Length) {
    $pages = [int]($Length / 4096)
    $buffer = [byte[]]::new($pages * 8)
    $stream = [IO.File]::OpenRead("/proc/$Id/pagemap")
    try {
        $stream.Position = [long]($Start / 4096) * 8
        $read = 0
        while ($read -lt $buffer.Length) { $n = $stream.Read($buffer, $read, $buffer.Length - $read); if ($n -le 0) { break }; $read += $n }
    }
    finally { $stream.Dispose() }
    $present = 0
    for ($i = 0; $i -lt $pages; $i++) { if (($buffer[$i * 8 + 7] -band 0x80) -ne 0) { $present++ } }
    [long]$present * 4096
}

function Get-Faults([int] $Id) {
    $stat = Get-Content -Raw "/proc/$Id/stat"
    $f = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
    [long]$f[10 - 3] + [long]$f[12 - 3]
}

function Get-Stats($t) {
    $w = $t.Send('loop-stats') -split ' '
    [pscustomobject]@{ Passes = [long]$w[1]; MeanUs = [double]$w[2]; MaxUs = [double]$w[3] }
}

function Measure-Strategy([string] $Name) {
    $t = Start-TestTarget -AnonMiB 32 -FileMiB 28 -HugeMiB 64
    try {
        $cold = @($t.Region('anon'), $t.Region('file'))
        $hot = $t.Region('huge')
        $t.Send('touch-loop-timed huge 20') | Out-Null
        Start-Sleep -Seconds 1
        Get-Stats $t | Out-Null
        Start-Sleep -Seconds 3
        $baseline = Get-Stats $t
        $coldBefore = ($cold | ForEach-Object { Get-PresentBytes $t.Id $_.Start $_.Length } | Measure-Object -Sum).Sum
        $faults = Get-Faults $t.Id
        $me = [Diagnostics.Process]::GetCurrentProcess()
        $cpu = $me.TotalProcessorTime
        $steps = 1
        if ($Name -eq 'loop') {
            $r = Invoke-MemoryReclaim -Id $t.Id -Window 1s -Duration 60s -MaxPressure 100
            $steps = $r.Steps
            $stop = "$($r.StopReason)"
        }
        else {
            Set-ProcessMadvise -Id $t.Id -MappingType All -Advice PageOut | Out-Null
            $stop = ''
        }
        $me.Refresh()
        $cpuUsed = ($me.TotalProcessorTime - $cpu).TotalMilliseconds
        if ($Name -ne 'loop') { Start-Sleep -Seconds 3 }
        $during = Get-Stats $t
        $refaults = (Get-Faults $t.Id) - $faults
        Start-Sleep -Seconds 3
        $after = Get-Stats $t
        $coldAfter = ($cold | ForEach-Object { Get-PresentBytes $t.Id $_.Start $_.Length } | Measure-Object -Sum).Sum
        [pscustomobject]@{
            Strategy    = $Name
            ColdTaken   = ($coldBefore - $coldAfter) / $coldBefore
            HotRefault  = $refaults / ($hot.Length / 4096)
            During      = $during.MeanUs / $baseline.MeanUs
            DuringMax   = $during.MaxUs / $baseline.MaxUs
            After       = $after.MeanUs / $baseline.MeanUs
            BaselineUs  = $baseline.MeanUs
            CpuPerStep  = $cpuUsed / $steps
            Steps       = $steps
            Stop        = $stop
        }
    }
    finally { $t.Stop() }
}

$swap = Enable-TestSwap -MiB 512
if (-not $swap) { throw 'A swap file could not be made: the bench needs root.' }
$load = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '
$rows = [System.Collections.Generic.List[object]]::new()
try {
    for ($round = 0; $round -lt $Rounds; $round++) {
        foreach ($s in 'loop', 'one-shot') { $rows.Add((Measure-Strategy $s)) }
    }
}
finally { Disable-TestSwap $swap }
$loadEnd = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '

$inv = [cultureinfo]::InvariantCulture
$lines = [System.Collections.Generic.List[string]]::new()
$lines.Add('<!-- reclaim-bench: written by tests/Bench/Reclaim.Bench.ps1 -->')
$lines.Add('## Reclaim: Invoke-MemoryReclaim against a one-shot Set-ProcessMadvise -MappingType All -Advice PageOut')
$lines.Add('')
$lines.Add("Target: 64 MiB anonymous read every 20 ms by one thread (each pass timed), 60 MiB cold (32 MiB anonymous, 28 MiB private file mapping); a 512 MiB swap file. Loop: ``-Window 1s``, default rate (64 MiB/s) and chunks (2 MiB). Median of $Rounds round(s), each with a fresh target per strategy; load average $load at the start, $loadEnd at the end. Pass times are ratios to the same target's baseline passes before anything was advised (mean; the slowest pass in brackets). CPU is this pwsh's user + system time during the cmdlet, per step (the one-shot is one step).")
$lines.Add('')
$lines.Add('| Strategy | Cold bytes taken | Hot pages refaulted | Pass time during | Pass time after | Baseline pass | CPU per step | Steps | Stop |')
$lines.Add('|---|---:|---:|---:|---:|---:|---:|---:|---|')
foreach ($s in 'loop', 'one-shot') {
    $g = @($rows | Where-Object Strategy -EQ $s)
    $label = if ($s -eq 'loop') { 'Invoke-MemoryReclaim' } else { 'Set-ProcessMadvise (one-shot)' }
    $lines.Add([string]::Format($inv, '| {0} | {1:P1} | {2:P1} | {3:0.00}x ({4:0.0}x) | {5:0.00}x | {6:0} us | {7:0} ms | {8} | {9} |',
            $label, (Get-Median $g.ColdTaken), (Get-Median $g.HotRefault), (Get-Median $g.During), (Get-Median $g.DuringMax),
            (Get-Median $g.After), (Get-Median $g.BaselineUs), (Get-Median $g.CpuPerStep), (Get-Median $g.Steps), (($g.Stop | Sort-Object -Unique) -join ',')))
}
$lines.Add('')
$lines.Add("Command, from the repository root: ``flock /tmp/madvps-host.lock dotnet pwsh -NoProfile tests/Bench/Reclaim.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Output docs/benchmarks.md`` (after ``build.ps1 Build`` and a build of tests/MadvPS.Target to out/target). Run at $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm', $inv)) UTC.")
$lines.Add('<!-- /reclaim-bench -->')
$section = $lines -join "`n"
$rows | Format-Table | Out-String | Write-Host
$section

if ($Output) {
    $text = if (Test-Path $Output) { Get-Content -Raw $Output } else { '' }
    $pattern = '(?s)<!-- reclaim-bench.*?<!-- /reclaim-bench -->'
    $text = if ($text -match $pattern) { [regex]::Replace($text, $pattern, { $section }) } else { $text.TrimEnd() + "`n`n" + $section + "`n" }
    Set-Content -Path $Output -Value $text -NoNewline
}
