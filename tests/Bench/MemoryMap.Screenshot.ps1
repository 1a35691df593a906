#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Makes the README's picture (docs/images/memory-map.png) from a real run: the target program
    with anonymous, file and memfd memory, part of it paged out to a swap file of its own, its
    access measured in windows while one region is kept busy, and the advice results.
.DESCRIPTION
    Needs root (the swap file); run it under flock /tmp/madvps-host.lock. The swap file is removed after.
.EXAMPLE
    flock /tmp/madvps-host.lock dotnet pwsh -NoProfile tests/Bench/MemoryMap.Screenshot.ps1 -Module out/MadvPS/MadvPS.psd1 -Target out/target/MadvPS.Target.dll
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Target,
    [string] $Output = (Join-Path $PSScriptRoot '../../docs/images/memory-map.png'),
    [int] $Height = 1500
)
$ErrorActionPreference = 'Stop'
Import-Module (Resolve-Path $Module).Path -Force
$env:MADVPS_TARGET = (Resolve-Path $Target).Path
Import-Module (Join-Path $PSScriptRoot '../Pester/TestHelpers.psm1') -Force
Import-Module (Join-Path $PSScriptRoot '../Pester/Browser/Browser.psm1') -Force
$swap = Enable-TestSwap -MiB 256
if (-not $swap) { throw 'A swap file could not be set up (root is needed).' }
$t = $null
$page = Join-Path ([IO.Path]::GetTempPath()) "madvps-readme-$PID.html"
try {
    $t = Start-TestTarget -AnonMiB 96 -FileMiB 32 -MemfdMiB 16
    $null = $t.Send('touch-loop file 50')
    $anon = $t.Region('anon')
    $advice = [pscustomobject]@{ ProcessId = $t.Id; Start = $anon.Start; Size = [long](48MB) } | Invoke-MemoryAdvice -Advice PageOut -PassThru
    $cold = Set-ProcessMadvise -Id $t.Id -Advice Cold -MappingType File
    $access = Measure-MemoryAccess -Id $t.Id -Window 300ms -Samples 6
    $null = $t.Send('stop-loop')
    @($access) + @($advice) + @($cold) | Export-MemoryMap -Path $page -Title 'MadvPS memory map: the test target after PageOut'
    Invoke-HeadlessBrowser -Path $page -Screenshot ([IO.Path]::GetFullPath($Output)) -Height $Height | Out-Null
    Get-Item $Output
}
finally {
    if ($t) { $t.Stop() }
    Disable-TestSwap $swap
    Remove-Item -LiteralPath $page -ErrorAction SilentlyContinue
}
