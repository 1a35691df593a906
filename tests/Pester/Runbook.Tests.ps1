# The runbook of docs/examples, run as an operator would schedule it (Invoke-Pester with container
# data, in its own pwsh: Pester cannot run inside the Pester run that tests it) against a target
# process of the project's own. One pwsh runs three containers: a real run, a run that must fail,
# and a run that finds nothing to do.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $runbook = Join-Path $PSScriptRoot '../../docs/examples/Reclaim-FileCache.Tests.ps1'
    $script:target = Start-TestTarget -AnonMiB 48 -FileMiB 16
    $target.Send('touch file') | Out-Null
    $script:checksum = $target.Checksum('')
    $script:before = Get-MemoryMapping -Id $target.Id -Rollup

    $runs = @(
        @{ Id = @($target.Id); AnonymousAbove = 32MB; MinimumReclaimed = 4MB }
        @{ Id = @($target.Id); AnonymousAbove = 32MB; MinimumReclaimed = 1TB }
        @{ Id = @($target.Id); AnonymousAbove = 1TB }
    )
    $script = {
        param($pester, $runbook, $json)
        Import-Module $pester
        $containers = foreach ($data in ($json | ConvertFrom-Json -AsHashtable)) { New-PesterContainer -Path $runbook -Data $data }
        $r = Invoke-Pester -Container $containers -PassThru -Output Detailed
        $counts = foreach ($c in $r.Containers) {
            @{ Passed = $c.PassedCount; Failed = $c.FailedCount + [int]($c.Result -eq 'Failed' -and $c.FailedCount -eq 0); Skipped = $c.SkippedCount }
        }
        "RESULT $(ConvertTo-Json -Compress -InputObject @($counts))"
    }
    $pwsh = Join-Path $PSHOME 'pwsh.dll'
    $out = & ([Environment]::ProcessPath) $pwsh -NoProfile -NonInteractive -Command $script -args (Get-Module Pester).Path, $runbook, (ConvertTo-Json -Compress -InputObject $runs)
    $script:output = $out -join "`n"
    $line = $out | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1
    $script:results = if ($line) { @($line.Substring(7) | ConvertFrom-Json) } else { @() }
    $script:after = Get-MemoryMapping -Id $target.Id -Rollup
}

AfterAll {
    if ($script:target) { $script:target.Stop() }
}

Describe 'docs/examples/Reclaim-FileCache.Tests.ps1' {
    It 'ran its three containers' {
        $results.Count | Should -Be 3 -Because $output
    }

    It 'pages out the file-backed memory of the target, which keeps its data and answers' {
        $results[0].Failed | Should -Be 0 -Because $output
        $results[0].Passed | Should -Be 4 -Because $output
        $after.Rss | Should -BeLessThan ($before.Rss - 4MB)
        $target.Checksum('') | Should -Be $checksum
        $target.Resident('anon') | Should -Be $target.Region('anon').Length -Because 'only file-backed memory was paged out'
    }

    It 'fails when the processes reclaim less than the minimum' {
        $results[1].Failed | Should -Be 1 -Because $output
        $output | Should -Match '\[-\] reclaims at least 1099511627776 bytes'
    }

    It 'does nothing, and says so, when no process is above the threshold' {
        $results[2].Failed | Should -Be 0 -Because $output
        $results[2].Skipped | Should -Be 4
        $output | Should -Match 'nothing to do'
    }
}
