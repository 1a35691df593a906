#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times Get-MemoryPage against a plain read of the same /proc/PID/pagemap ranges.
.DESCRIPTION
    Two targets of the project's target program:
      - 1 GiB with alternating resident and absent pages (--reserve-mib 1024, touch-every 2);
      - the 60,000-mapping target (--mappings 60000), every mapping.
    Interleaved runs (each round runs every case once, in table order, after one warm-up round),
    medians of -Repetitions rounds, of:
      - a plain read of the pagemap words of the same ranges (the reference: the kernel's own time
        to generate them), one pread per range, from C# with no PowerShell in the loop;
      - Get-MemoryPage -Summary (by -Id and -Address/-Length, or every mapping by -Id alone);
      - the same mappings piped in as MemoryMapping objects (parameter binding included);
      - the core's Count with PAGEMAP_SCAN and with the pagemap read, no PowerShell (where the time goes);
      - Get-MemoryPage writing every run, collected, and the core's runs alone: runs per second.
    Writes a "## Pages" section into -Output (docs/benchmarks.md), replacing one already there,
    and prints it. Nothing is advised.
.EXAMPLE
    dotnet pwsh -NoProfile ./build.ps1 Build; dotnet pwsh -NoProfile tests/Bench/Pages.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Output docs/benchmarks.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Target,
    [string] $Output,
    [int] $Mappings = 60000,
    [ValidateRange(3, 50)] [int] $Repetitions = 7
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Resolve-Path $Module).Path -Force

$assembly = [MadvPS.MemoryPageRun].Assembly
$scan = 0
$read = 1

Add-Type -TypeDefinition @'
using System;
using System.IO;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
public static class PagemapReference
{
    // One pread of the words of each range, into one reused buffer of up to 2 MiB: what reading
    // the same pagemap costs with no decoding at all.
    public static long Read(int pid, ulong[] starts, ulong[] ends)
    {
        int page = Environment.SystemPageSize;
        var buffer = new byte[2 << 20];
        long total = 0;
        using SafeFileHandle file = File.OpenHandle($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        for (int i = 0; i < starts.Length; i++)
        {
            long offset = (long)(starts[i] / (ulong)page) * 8;
            long bytes = (long)((ends[i] - starts[i]) / (ulong)page) * 8;
            while (bytes > 0)
            {
                int n = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(bytes, buffer.Length)), offset);
                if (n <= 0) break;
                total += n; offset += n; bytes -= n;
            }
        }
        return total;
    }

    private static (object Reader, IDisposable Directory) Open(System.Reflection.Assembly module, int pid, int source)
    {
        Type dirType = module.GetType("MadvPS.Core.ProcDirectory")!;
        Type readerType = module.GetType("MadvPS.Core.PagemapReader")!;
        Type sourceType = module.GetType("MadvPS.Core.PageSource")!;
        object dir = dirType.GetMethod("Open", new[] { typeof(int) })!.Invoke(null, new object[] { pid })!;
        object reader = readerType.GetMethod("Open")!.Invoke(null, new object[] { dir, Enum.ToObject(sourceType, source) })!;
        return (reader, (IDisposable)dir);
    }

    // PagemapReader.Count per range; returns the runs counted.
    public static long CoreCount(System.Reflection.Assembly module, int pid, ulong[] starts, ulong[] ends, int source)
    {
        var (reader, dir) = Open(module, pid, source);
        using (dir)
        using ((IDisposable)reader)
        {
            var count = reader.GetType().GetMethod("Count")!;
            long runs = 0;
            var args = new object[2];
            for (int i = 0; i < starts.Length; i++)
            {
                args[0] = starts[i]; args[1] = ends[i] - starts[i];
                object counts = count.Invoke(reader, args)!;
                runs += (long)counts.GetType().GetProperty("Runs")!.GetValue(counts)!;
            }
            return runs;
        }
    }

    // A plain read of /proc/PID/maps: the kernel's walk of the mappings that every read of a
    // process's mappings starts with.
    public static long MapsRead(int pid)
    {
        var buffer = new byte[1 << 20];
        long total = 0;
        using FileStream maps = new FileStream($"/proc/{pid}/maps", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        int n;
        while ((n = maps.Read(buffer, 0, buffer.Length)) > 0) total += n;
        return total;
    }

    // PagemapReader.Runs of one range, enumerated (PAGEMAP_SCAN).
    public static long CoreRuns(System.Reflection.Assembly module, int pid, ulong start, ulong length)
    {
        var (reader, dir) = Open(module, pid, 0);
        using (dir)
        using ((IDisposable)reader)
        {
            var runs = (System.Collections.IEnumerable)reader.GetType().GetMethod("Runs")!.Invoke(reader, new object[] { start, length })!;
            long n = 0;
            foreach (object run in runs) n++;
            return n;
        }
    }
}
'@

function Get-Median([double[]] $Values) {
    $sorted = $Values | Sort-Object
    $n = $sorted.Count
    if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}

function Measure-Case([scriptblock] $Block) {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers()
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $value = & $Block
    $clock.Stop()
    [pscustomobject]@{ Wall = $clock.Elapsed.TotalMilliseconds; Value = $value }
}

function Start-Target([string[]] $Arguments) {
    $info = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    foreach ($a in @($Target) + $Arguments) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($info)
    $regions = @{}
    while ($true) {
        $line = $process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The target ($Arguments) exited before it was ready." }
        if ($line -eq 'ready') { break }
        $w = $line -split ' '
        if ($w[0] -eq 'region') { $regions[$w[1]] = @{ Start = [Convert]::ToUInt64($w[2].Substring(2), 16); Length = [long]$w[3] } }
    }
    @{ Process = $process; Regions = $regions }
}

function Stop-Target($t) {
    if (-not $t.Process.HasExited) {
        $t.Process.StandardInput.WriteLine('exit')
        if (-not $t.Process.WaitForExit(10000)) { $t.Process.Kill() }
    }
    $t.Process.Dispose()
}

# The core's Count over the ranges and its runs enumerated, in C# through reflection (no PowerShell per range).
function Invoke-CoreCount([int] $ProcessId, [ulong[]] $Starts, [ulong[]] $Ends, $Source) { [PagemapReference]::CoreCount($assembly, $ProcessId, $Starts, $Ends, [int]$Source) }
function Invoke-CoreRuns([int] $ProcessId, [ulong] $Start, [ulong] $Length) { [PagemapReference]::CoreRuns($assembly, $ProcessId, $Start, $Length) }

$tables = [ordered]@{}
$load = (Get-Content /proc/loadavg -Raw).Split(' ')[0..2] -join ' '

# --- 1 GiB alternating ---------------------------------------------------------------------------
Write-Host 'Target with 1 GiB of alternating resident and absent pages...'
$t = Start-Target @('--reserve-mib', '1024')
try {
    $t.Process.StandardInput.WriteLine('touch-every reserve 2'); $null = $t.Process.StandardOutput.ReadLine()
    $id = $t.Process.Id
    $r = $t.Regions['reserve']
    [ulong[]] $starts = @($r.Start); [ulong[]] $ends = @($r.Start + [ulong]$r.Length)
    $cases = [ordered]@{
        'plain read of the same pagemap range (reference)' = { [PagemapReference]::Read($id, $starts, $ends) }
        'Get-MemoryPage -Summary'                           = { (Get-MemoryPage -Id $id -Address $r.Start -Length $r.Length -Summary).Runs }
        'core Count, PAGEMAP_SCAN, no PowerShell'           = { Invoke-CoreCount $id $starts $ends $scan }
        'core Count, pagemap read, no PowerShell'           = { Invoke-CoreCount $id $starts $ends $read }
        'Get-MemoryPage, every run collected'               = { @(Get-MemoryPage -Id $id -Address $r.Start -Length $r.Length).Count }
        'core runs enumerated, no PowerShell objects'       = { Invoke-CoreRuns $id $r.Start ([ulong]$r.Length) }
    }
    $tables['1 GiB, alternating resident and absent pages'] = @{ Cases = $cases; Samples = @{} }
    foreach ($name in $cases.Keys) { $tables['1 GiB, alternating resident and absent pages'].Samples[$name] = [Collections.Generic.List[object]]::new() }
    foreach ($round in 0..$Repetitions) {
        foreach ($name in $cases.Keys) {
            $m = Measure-Case $cases[$name]
            if ($round -gt 0) { $tables['1 GiB, alternating resident and absent pages'].Samples[$name].Add($m) }
        }
        Write-Host "  round $round of $Repetitions done"
    }
}
finally { Stop-Target $t }

# --- the 60,000-mapping target -------------------------------------------------------------------
Write-Host "Target with --mappings $Mappings..."
$t = Start-Target @('--mappings', [string]$Mappings)
try {
    $id = $t.Process.Id
    $maps = @(Get-MemoryMapping -Id $id | Where-Object Kind -NE 'Vsyscall')
    [ulong[]] $starts = $maps.Start; [ulong[]] $ends = $maps.End
    $title = "--mappings $Mappings ($($maps.Count) VMAs), every mapping"
    $cases = [ordered]@{
        'plain read of the same pagemap ranges (reference)' = { [PagemapReference]::Read($id, $starts, $ends) }
        'Get-MemoryPage -Id -Summary'                        = { @(Get-MemoryPage -Id $id -Summary).Count }
        'MemoryMapping objects piped to Get-MemoryPage -Summary' = { @($maps | Get-MemoryPage -Summary -ErrorAction SilentlyContinue).Count }
        'core Count, PAGEMAP_SCAN, no PowerShell'            = { Invoke-CoreCount $id $starts $ends $scan }
        'core Count, pagemap read, no PowerShell'            = { Invoke-CoreCount $id $starts $ends $read }
        'Get-MemoryPage -Id, every run collected'            = { @(Get-MemoryPage -Id $id).Count }
        'MemoryMapping objects piped to Get-MemoryPage, every run collected' = { @($maps | Get-MemoryPage -ErrorAction SilentlyContinue).Count }
        'Get-MemoryPage -Id -State Swapped (every page read, no object written: none is swapped)' = { @(Get-MemoryPage -Id $id -State Swapped).Count }
        'plain read of /proc/PID/maps (the kernel''s walk of the mappings)' = { [PagemapReference]::MapsRead($id) }
    }
    $tables[$title] = @{ Cases = $cases; Samples = @{} }
    foreach ($name in $cases.Keys) { $tables[$title].Samples[$name] = [Collections.Generic.List[object]]::new() }
    foreach ($round in 0..$Repetitions) {
        foreach ($name in $cases.Keys) {
            $m = Measure-Case $cases[$name]
            if ($round -gt 0) { $tables[$title].Samples[$name].Add($m) }
        }
        Write-Host "  round $round of $Repetitions done"
    }
}
finally { Stop-Target $t }

# --- the report ------------------------------------------------------------------------------------
function F([double] $Value, [int] $Digits = 1) { $Value.ToString("N$Digits", [Globalization.CultureInfo]::InvariantCulture) }
$md = [Text.StringBuilder]::new()
function Line([string] $Text = '') { [void]$md.AppendLine($Text) }
Line '## Pages: Get-MemoryPage (issue 15)'
Line
Line "Written by tests/Bench/Pages.Bench.ps1 (run on its own: ``dotnet pwsh -NoProfile tests/Bench/Pages.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll -Output docs/benchmarks.md``),"
Line "$Repetitions rounds, interleaved, medians; load average at the start $load, Linux $((Get-Content /proc/sys/kernel/osrelease -Raw).Trim()), $([Environment]::ProcessorCount) CPUs, $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC."
Line 'The reference is a plain pread of the pagemap words of the same ranges from C#: the kernel''s time to generate them, with no decoding.'
Line
$summaryRatios = @{}
foreach ($title in $tables.Keys) {
    $tab = $tables[$title]
    $reference = Get-Median @($tab.Samples[@($tab.Cases.Keys)[0]] | ForEach-Object Wall)
    Line "### $title"
    Line
    Line '| case | median wall | ratio to the plain read | result | runs per second |'
    Line '| --- | ---: | ---: | ---: | ---: |'
    foreach ($name in $tab.Cases.Keys) {
        $median = Get-Median @($tab.Samples[$name] | ForEach-Object Wall)
        $value = $tab.Samples[$name][0].Value
        $perSecond = if ($name -match 'run') { F ($value / ($median / 1000)) 0 } else { '' }
        if ($name -like '*-Summary*') { $summaryRatios["$title | $name"] = $median / $reference }
        Line "| $name | $(F $median 1) ms | $(F ($median / $reference) 2) × | $value | $perSecond |"
    }
    Line
}
Line 'Reading the table: the 60,000-mapping reference reads the words of every mapping, the runtime''s tens of GiB of untouched reservations included, which the summary jumps over with PAGEMAP_SCAN; so there the summary can beat it. Neighbouring mappings are read together (PageGroup: one PAGEMAP_SCAN walk and one read of words per 128 MiB), so the work per mapping is the kernel''s walk of it, three times (maps, the scan, the words), and the objects. Live MemoryMapping objects piped in bind to -InputObject, one parameter per object; PowerShell''s binding of it is still some 1 us an object, which -Id alone does not pay. The runs per second of the 60,000-mapping target are bounded by those walks (one run per mapping), those of the 1 GiB case by writing an object per run. The section after this one says what was changed and what was tried.'
Line
Line 'Issue 15''s targets: Get-MemoryPage -Summary at most 1.2 × the plain read; runs written at least 1 million per second.'
foreach ($k in $summaryRatios.Keys) { Line "- $k`: $(F $summaryRatios[$k] 2) × ($(if ($summaryRatios[$k] -le 1.2) { 'met' } else { '**not met**' }))" }
foreach ($title in $tables.Keys) {
    $tab = $tables[$title]
    $name = @($tab.Cases.Keys | Where-Object { $_ -like 'Get-MemoryPage*every run collected' })[0]
    $perSecond = $tab.Samples[$name][0].Value / ((Get-Median @($tab.Samples[$name] | ForEach-Object Wall)) / 1000)
    Line "- $title | runs written: $(F $perSecond 0) a second ($(if ($perSecond -ge 1e6) { 'met' } else { '**not met**' }))"
}
Line

$section = $md.ToString().TrimEnd()
Write-Host $section
if ($Output) {
    $text = if (Test-Path $Output) { Get-Content -Raw $Output } else { '' }
    # Up to the next section or the marker another bench puts before its own (<!-- reclaim-bench ... -->).
    $pattern = '(?ms)^## Pages: Get-MemoryPage \(issue 15\).*?(?=^## (?!#)|^<!-- |\z)'
    if ($text -match $pattern) { $text = [regex]::Replace($text, $pattern, ($section + "`n`n").Replace('$', '$$')) }
    else { $text = $text.TrimEnd() + "`n`n" + $section + "`n" }
    Set-Content -Path $Output -Value $text.TrimEnd() -Encoding utf8NoBOM
    Write-Host "Wrote the Pages section of $Output"
}
