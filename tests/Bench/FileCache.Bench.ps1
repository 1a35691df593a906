#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times Get-FileCache against fincore (util-linux) and against Get-ChildItem on one tree.
.DESCRIPTION
    Interleaved runs (each repetition runs every case once, in the same order), medians reported:
      - Get-ChildItem -Recurse -File (the reference: PowerShell walking the same tree);
      - Get-FileCache -Recurse, every object collected;
      - fincore --bytes on the same files, the files as arguments (mincore inside), started by sh
        so that no PowerShell pipeline feeds it;
      - the module's core alone, cachestat per file, and the same with mincore forced (through
        reflection, no PowerShell in the loop): what the fallback costs;
      - the same system calls in C (filecache-floor.c, when gcc is there): the kernel's floor.
    Nothing is advised: the page cache is only read.
.EXAMPLE
    dotnet pwsh -NoProfile ./build.ps1 Build; dotnet pwsh -NoProfile tests/Bench/FileCache.Bench.ps1 -Module out/MadvPS/MadvPS.psd1 -Root /usr/lib
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [string] $Root = '/usr/lib',
    [ValidateRange(3, 50)] [int] $Repetitions = 5
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Resolve-Path $Module).Path -Force

$assembly = [MadvPS.FileCache].Assembly
$open = $assembly.GetType('MadvPS.Core.CachedFile').GetMethod('Open')
$measure = $assembly.GetType('MadvPS.Core.FileCacheMeter').GetMethod('Measure')
$method = $assembly.GetType('MadvPS.Core.CacheMeasureMethod')
$auto = [Enum]::ToObject($method, 0)
$mincore = [Enum]::ToObject($method, 1)

$files = [string[]]@(Get-FileCache -Path $Root -Recurse | ForEach-Object Path)
$listFile = [IO.Path]::GetTempFileName()
Set-Content -Path $listFile -Value $files

function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $n = $sorted.Count
    if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
}

# The core's loop in C#, so that the time is the module's and the kernel's, not the script's.
Add-Type -TypeDefinition @'
using System;
using System.Reflection;
public static class FileCacheCoreLoop
{
    public static long Run(MethodInfo open, MethodInfo measure, object how, string[] files)
    {
        long cached = 0;
        foreach (string f in files)
        {
            var file = (IDisposable)open.Invoke(null, new object[] { f });
            try
            {
                object figures = measure.Invoke(null, new object[] { file, 0L, 0L, how });
                cached += (long)figures.GetType().GetProperty("Cached").GetValue(figures);
            }
            finally { file.Dispose(); }
        }
        return cached;
    }
}
'@
function Measure-Core($How) { [FileCacheCoreLoop]::Run($open, $measure, $How, $files) }

$cases = [ordered]@{
    'Get-ChildItem -Recurse -File (reference)' = { @(Get-ChildItem -Path $Root -Recurse -File).Count }
    'Get-FileCache -Recurse'                   = { @(Get-FileCache -Path $Root -Recurse).Count }
    'fincore, the same files'                  = { @(sh -c 'xargs -d "\n" fincore --bytes --noheadings --raw --output RES < "$0"' $listFile).Count }
    'core: cachestat per file'                 = { Measure-Core $auto }
    'core: mincore per file (fallback)'        = { Measure-Core $mincore }
}

$floor = Join-Path ([IO.Path]::GetTempPath()) "madvps-filecache-floor-$PID"
if (Get-Command gcc -CommandType Application -ErrorAction Ignore) {
    gcc -O2 -o $floor (Join-Path $PSScriptRoot 'filecache-floor.c')
    if ($LASTEXITCODE -eq 0) { $cases['C, the same calls (floor)'] = { sh -c '"$0" < "$1"' $floor $listFile } }
}

$times = @{}
foreach ($name in $cases.Keys) { $times[$name] = [System.Collections.Generic.List[double]]::new() }
& $cases['Get-FileCache -Recurse'] | Out-Null # warm the dentry and inode caches
for ($i = 0; $i -lt $Repetitions; $i++) {
    foreach ($name in $cases.Keys) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $null = & $cases[$name]
        $times[$name].Add($watch.Elapsed.TotalMilliseconds)
    }
}
Remove-Item $listFile
Remove-Item $floor -ErrorAction Ignore

$reference = Get-Median $times['Get-ChildItem -Recurse -File (reference)']
"$($files.Count) regular files under $Root; median of $Repetitions interleaved runs"
foreach ($name in $cases.Keys) {
    $median = Get-Median $times[$name]
    [pscustomobject]@{
        Case          = $name
        'Median (ms)' = [math]::Round($median, 1)
        'µs per file' = [math]::Round($median * 1000 / $files.Count, 2)
        'x reference' = [math]::Round($median / $reference, 2)
    }
}
