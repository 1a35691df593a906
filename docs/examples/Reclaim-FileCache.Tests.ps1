<#
.SYNOPSIS
    Runbook: page out the file-backed memory of processes that hold a lot of anonymous memory,
    and prove it worked: bytes reclaimed, processes still running and answering.
.DESCRIPTION
    A Pester file an operator schedules (cron, a systemd timer, a CI job). It selects the processes
    named by -Name or -Id whose anonymous memory (Anonymous in smaps_rollup) is above
    -AnonymousAbove, pages out their file-backed mappings with Set-ProcessMadvise -MappingType File
    (libraries and mapped files, read back from disk when used again; nothing is lost), and fails if
    the processes reclaimed less than -MinimumReclaimed in all, if the kernel refused a range, or if
    a process stopped answering. Needs root or CAP_SYS_NICE, and Linux 5.10 or later.

    Run it:
        $data = @{ Name = 'java'; AnonymousAbove = 2GB; MinimumReclaimed = 64MB
                   HealthCheck = { param($ProcessId) (Invoke-WebRequest http://localhost:8080/health).StatusCode -eq 200 } }
        Invoke-Pester -Container (New-PesterContainer -Path ./Reclaim-FileCache.Tests.ps1 -Data $data) -Output Detailed

    Review it first: add -WhatIf = $true to the data to preview without advising.
#>
param(
    # Names of the processes to consider, as Get-Process shows them; wildcards allowed.
    [string[]] $Name,
    # IDs of the processes to consider (instead of, or as well as, names).
    [int[]] $Id,
    # Only processes whose anonymous memory is above this many bytes.
    [long] $AnonymousAbove = 1GB,
    # The run fails if the selected processes reclaim fewer bytes than this, in all.
    [long] $MinimumReclaimed = 1MB,
    # Called with -ProcessId after the advice; must return $true when the process still serves.
    [scriptblock] $HealthCheck = { param($ProcessId) $true },
    # Preview only: nothing is advised, and only the selection is checked.
    [bool] $WhatIf = $false
)

BeforeAll {
    Import-Module MadvPS -ErrorAction Stop
    if (-not $Name -and -not $Id) { throw 'Name the processes to reclaim with -Name or -Id in the container data.' }
    $processes = @(
        if ($Name) { Get-Process -Name $Name -ErrorAction SilentlyContinue }
        if ($Id) { Get-Process -Id $Id -ErrorAction SilentlyContinue }
    ) | Sort-Object Id -Unique
    $script:selected = @($processes | Get-MemoryMapping -Rollup -ErrorAction SilentlyContinue | Where-Object Anonymous -GT $AnonymousAbove)
    $script:results = @()
}

Describe 'Reclaim the file-backed memory of processes with more than <AnonymousAbove> bytes of anonymous memory' {
    It 'selects the processes to reclaim' {
        if ($selected.Count -eq 0) { Set-ItResult -Skipped -Because "no process named $($Name + $Id -join ', ') has more than $AnonymousAbove bytes of anonymous memory: nothing to do" }
        $selected | ForEach-Object { $_.Anonymous | Should -BeGreaterThan $AnonymousAbove }
    }

    It 'pages out their file-backed memory, and the kernel takes every range' {
        if ($selected.Count -eq 0) { Set-ItResult -Skipped -Because 'no process was selected' }
        if ($WhatIf) { Set-ItResult -Skipped -Because 'this is a preview (-WhatIf)'; $selected | Set-ProcessMadvise -Advice PageOut -MappingType File -WhatIf; return }
        $script:results = @($selected | Set-ProcessMadvise -Advice PageOut -MappingType File -ErrorVariable failures -ErrorAction SilentlyContinue)
        $failures | Should -BeNullOrEmpty
        $results.Count | Should -Be $selected.Count
        $results | Format-Table | Out-String | Write-Host
        foreach ($r in $results) {
            $r.RangesFailed | Should -Be 0 -Because "process $($r.ProcessId) ($($r.ProcessName)) should take every range"
        }
    }

    It 'reclaims at least <MinimumReclaimed> bytes' {
        if ($results.Count -eq 0) { Set-ItResult -Skipped -Because 'nothing was advised' }
        $reclaimed = ($results | Measure-Object RssReclaimed -Sum).Sum
        Write-Host ('Reclaimed {0} from {1} process(es).' -f [MadvPS.Display]::Bytes($reclaimed), $results.Count)
        $reclaimed | Should -BeGreaterOrEqual $MinimumReclaimed
    }

    It 'leaves every process running and answering' {
        if ($selected.Count -eq 0) { Set-ItResult -Skipped -Because 'no process was selected' }
        foreach ($p in $selected) {
            $now = Get-MemoryMapping -Id $p.ProcessId -Rollup -ErrorAction SilentlyContinue
            $now | Should -Not -BeNullOrEmpty -Because "process $($p.ProcessId) ($($p.ProcessName)) should still run"
            $now.ProcessStartTime | Should -Be $p.ProcessStartTime -Because "process $($p.ProcessId) should be the same process, not a restarted one"
            $state = ((Get-Content -Raw "/proc/$($p.ProcessId)/stat") -split '\) ')[1][0]
            $state | Should -Not -BeIn @('T', 't', 'Z') -Because "process $($p.ProcessId) should not be stopped"
            & $HealthCheck -ProcessId $p.ProcessId | Should -BeTrue -Because "process $($p.ProcessId) ($($p.ProcessName)) should pass its health check"
        }
    }
}
