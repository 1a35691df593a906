#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The memory map of the 60,000-mapping target: file size, time to write it, time to draw it in a browser.
.DESCRIPTION
    Starts the target program with --mappings N (as Invoke-Benchmarks.ps1 does), reads its
    mappings once, and, interleaved over -Repetitions rounds (medians reported):
      - Export-MemoryMap of the collected mappings, against Measure-Object of the same (the cost
        of the pipeline alone, the reference);
      - the page in chromium-headless-shell: its own time from navigation start to the end of its
        drawing and the layout read after it (data-render-ms, performance.now()), and the browser's
        wall time for a screenshot, against the same browser on an empty page (start-up and
        screenshot alone, the reference).
    Prints a markdown section for docs/benchmarks.md.
.EXAMPLE
    dotnet pwsh -NoProfile tests/Bench/MemoryMap.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Target,
    [int] $Mappings = 60000,
    [ValidateRange(3, 50)] [int] $Repetitions = 5
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Resolve-Path $Module).Path -Force
Import-Module (Join-Path $PSScriptRoot '../Pester/Browser/Browser.psm1') -Force

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
$dir = Join-Path ([IO.Path]::GetTempPath()) "madvps-map-bench-$PID"
New-Item -ItemType Directory -Force -Path $dir | Out-Null
try {
    while ($true) {
        $line = $process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The target exited before it was ready (vm.max_map_count is $(Get-Content /proc/sys/vm/max_map_count))." }
        if ($line -eq 'ready') { break }
    }
    $load = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '
    $m = Get-MemoryMapping -Id $process.Id
    $page = Join-Path $dir 'map.html'
    $blank = Join-Path $dir 'blank.html'
    Set-Content -LiteralPath $blank -Value '<!DOCTYPE html><html><body></body></html>'
    $m | Export-MemoryMap -Path $page   # warm-up
    # The worst case for the size: as many mappings, alternating file (each its own path) and
    # anonymous, so that no two neighbours are of one kind and the page holds the most blocks.
    $worst = Join-Path $dir 'worst.html'
    $synthetic = for ($i = 0; $i -lt $m.Count; $i++) {
        $o = [MadvPS.MemoryMapping]::new()
        $o.ProcessId = 1; $o.ProcessName = 'synthetic'; $o.Start = [ulong](0x10000000 + $i * 0x10000); $o.Size = 4096 * (1 + $i % 7); $o.End = $o.Start + [ulong]$o.Size
        if ($i % 2) { $o.Kind = 'File'; $o.Path = "/usr/lib/x86_64-linux-gnu/library-number-$i.so.1" } else { $o.Kind = 'Anonymous' }
        $o.Rss = $o.Size / 2; $o.Swap = 4096 * ($i % 2); $o.Permissions = 'r--p'
        $o
    }
    $synthetic | Export-MemoryMap -Path $worst
    $t = @{ Export = @(); Measure = @(); Render = @(); Shot = @(); BlankShot = @(); WorstRender = @() }
    for ($i = 0; $i -lt $Repetitions; $i++) {
        $t.Measure += (Measure-Command { $m | Measure-Object }).TotalMilliseconds
        $t.Export += (Measure-Command { $m | Export-MemoryMap -Path $page }).TotalMilliseconds
        $dom = (Invoke-HeadlessBrowser -Path $page).Dom
        $ms = [regex]::Match($dom, 'data-render-ms="([0-9.]+)"').Groups[1].Value
        if (-not $ms) { throw 'The page did not finish drawing.' }
        $t.Render += [double]$ms
        $t.Shot += (Invoke-HeadlessBrowser -Path $page -Screenshot (Join-Path $dir 'map.png') -Height 1400).Elapsed.TotalMilliseconds
        $wdom = (Invoke-HeadlessBrowser -Path $worst).Dom
        $t.WorstRender += [double][regex]::Match($wdom, 'data-render-ms="([0-9.]+)"').Groups[1].Value
        $t.BlankShot += (Invoke-HeadlessBrowser -Path $blank -Screenshot (Join-Path $dir 'blank.png') -Height 1400).Elapsed.TotalMilliseconds
    }
    $size = (Get-Item $page).Length
    $blocks = [regex]::Matches((Get-Content -Raw $page), '\{"s":"').Count
    $worstSize = (Get-Item $worst).Length
    $worstBlocks = [regex]::Matches((Get-Content -Raw $worst), '\{"s":"').Count
    $browser = (& (Get-HeadlessBrowser) --version 2>$null) -join ' '
    $med = @{}; foreach ($k in $t.Keys) { $med[$k] = Get-Median $t[$k] }
    $lines = @(
        "## Export-MemoryMap (issue 16): target with --mappings $Mappings ($($m.Count) VMAs)"
        ''
        "Command: ``dotnet pwsh -NoProfile tests/Bench/MemoryMap.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll``; $browser; median of $Repetitions rounds; load average at the start $load; run at $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC."
        ''
        '| target | measured | |'
        '| --- | ---: | --- |'
        ('| file size ≤ 2 MiB | {0:N0} bytes ({1:0.###} MiB; {2} blocks) | {3} |' -f $size, ($size / 1MB), $blocks, $(if ($size -le 2MB) { 'met' } else { '**not met**' }))
        ('| drawn in a browser in < 2 s (the page''s own time, navigation start to the end of drawing and layout) | {0:0} ms | {1} |' -f $med.Render, $(if ($med.Render -lt 2000) { 'met' } else { '**not met**' }))
        ('| worst case, {0} mappings alternating file (a path each) and anonymous: file size ≤ 2 MiB | {1:N0} bytes ({2:0.###} MiB; {3} blocks) | {4} |' -f $m.Count, $worstSize, ($worstSize / 1MB), $worstBlocks, $(if ($worstSize -le 2MB) { 'met' } else { '**not met**' }))
        ('| worst case drawn in < 2 s (the page''s own time) | {0:0} ms | {1} |' -f $med.WorstRender, $(if ($med.WorstRender -lt 2000) { 'met' } else { '**not met**' }))
        ''
        '| case | median ms | × reference |'
        '| --- | ---: | ---: |'
        ('| Measure-Object of the collected mappings (reference: the pipeline alone) | {0:0} | 1.00 |' -f $med.Measure)
        ('| Export-MemoryMap of the same | {0:0} | {1:0.00} |' -f $med.Export, ($med.Export / $med.Measure))
        ('| chromium-headless-shell screenshot of an empty page (reference: start-up and screenshot) | {0:0} | 1.00 |' -f $med.BlankShot)
        ('| chromium-headless-shell screenshot of the map | {0:0} | {1:0.00} |' -f $med.Shot, ($med.Shot / $med.BlankShot))
        ''
        "The $($m.Count) mappings are drawn as $blocks blocks: the target's one-page mappings are merged (the block says how many it holds), the runtime's mappings stay blocks of their own. The data is embedded once as JSON and drawn by the page's script."
    )
    $lines -join "`n"
}
finally {
    if (-not $process.HasExited) { $process.StandardInput.WriteLine('exit'); if (-not $process.WaitForExit(10000)) { $process.Kill() } }
    $process.Dispose()
    Remove-Item -Recurse -Force -LiteralPath $dir -ErrorAction SilentlyContinue
}
