# The main job, on a process of the project's own: find the largest mappings, page them out,
# and show what the kernel did. Run it with: dotnet pwsh ./build.ps1 Demo
param([Parameter(Mandatory)] [string] $Target)
$ErrorActionPreference = 'Stop'
# Into a file or a pipe, plain text: no ANSI escapes in a redirected log.
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }
Import-Module MadvPS
Import-Module (Join-Path $PSScriptRoot 'Pester/TestHelpers.psm1')
$env:MADVPS_TARGET = $Target

$t = Start-TestTarget -AnonMiB 64 -FileMiB 64 -SharedFileMiB 16
try {
    Write-Host "`nTarget process $($t.Id): its largest mappings" -ForegroundColor Cyan
    Get-MemoryMapping -Id $t.Id | Sort-Object Rss -Descending | Select-Object -First 6 | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

    $before = Get-MemoryMapping -Id $t.Id -Rollup
    $checksumBefore = $t.Checksum('')
    Write-Host 'Preview:' -ForegroundColor Cyan
    Get-MemoryMapping -Id $t.Id | Where-Object Rss -GT 1MB | Invoke-MemoryAdvice -Advice PageOut -WhatIf

    Write-Host "`nGet-MemoryMapping -Id $($t.Id) | Where Rss -gt 1MB | Invoke-MemoryAdvice -Advice PageOut -PassThru" -ForegroundColor Cyan
    Get-MemoryMapping -Id $t.Id | Where-Object Rss -GT 1MB | Invoke-MemoryAdvice -Advice PageOut -PassThru | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $after = Get-MemoryMapping -Id $t.Id -Rollup

    $swap = (Get-MemoryAdviceSupport -Environment).SwapTotal
    Write-Host 'RSS before and after:' -ForegroundColor Cyan
    [pscustomobject]@{ When = 'before'; Rss = $before.Rss; PssFile = $before.PssFile; PssAnon = $before.PssAnon; Swap = $before.Swap },
    [pscustomobject]@{ When = 'after'; Rss = $after.Rss; PssFile = $after.PssFile; PssAnon = $after.PssAnon; Swap = $after.Swap } |
        Format-Table When, @{ n = 'Rss'; e = { [MadvPS.Display]::Bytes($_.Rss) } }, @{ n = 'PssFile'; e = { [MadvPS.Display]::Bytes($_.PssFile) } },
            @{ n = 'PssAnon'; e = { [MadvPS.Display]::Bytes($_.PssAnon) } }, @{ n = 'Swap'; e = { [MadvPS.Display]::Bytes($_.Swap) } } | Out-Host
    if ($swap -eq 0) { Write-Host 'No swap on this host: PageOut reclaimed the file-backed pages; anonymous pages stay until swap exists.' }
    $intact = $t.Checksum('') -eq $checksumBefore
    Write-Host ('Reclaimed {0}; the target''s data {1}.' -f [MadvPS.Display]::Bytes($before.Rss - $after.Rss), $(if ($intact) { 'reads back unchanged' } else { 'CHANGED' }))
    if (-not $intact) { exit 1 }
}
finally {
    $t.Stop()
}
