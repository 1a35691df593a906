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
        # Quiet: the run meant to fail must not print red failures into the suite's log; what each
        # test did comes back in the result object instead.
        $configuration = New-PesterConfiguration
        $configuration.Run.Container = $containers
        $configuration.Run.PassThru = $true
        $configuration.Output.Verbosity = 'None'
        $r = Invoke-Pester -Configuration $configuration
        $counts = foreach ($c in $r.Containers) {
            @{
                Passed = $c.PassedCount; Failed = $c.FailedCount + [int]($c.Result -eq 'Failed' -and $c.FailedCount -eq 0); Skipped = $c.SkippedCount
                FailedTests = @($c.Blocks | ForEach-Object Tests | Where-Object Result -EQ 'Failed' | ForEach-Object ExpandedName)
                SkipReasons = @($c.Blocks | ForEach-Object Tests | Where-Object Result -EQ 'Skipped' | ForEach-Object { "$($_.ErrorRecord)" })
                Errors = @($c.Blocks | ForEach-Object Tests | Where-Object Result -EQ 'Failed' | ForEach-Object { "$($_.ErrorRecord)" }) + @($c.ErrorRecord | ForEach-Object { "$_" })
            }
        }
        "RESULT $(ConvertTo-Json -Compress -Depth 4 -InputObject @($counts))"
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
        # The 16 MiB file region went, but for the lru_add batch slack (up to 31 folios another CPU
        # may hold, mm/swap.c), and the run said it reclaimed at least the 4 MiB it was asked for.
        $target.Resident('file') | Should -BeLessOrEqual (31 * 4KB)
        $after.Rss | Should -BeLessOrEqual ($before.Rss - 16MB + 31 * 4KB)
        $target.Checksum('') | Should -Be $checksum
        $target.Resident('anon') | Should -Be $target.Region('anon').Length -Because 'only file-backed memory was paged out'
    }

    It 'fails when the processes reclaim less than the minimum' {
        $results[1].Failed | Should -Be 1 -Because $output
        @($results[1].FailedTests) | Should -Be @('reclaims at least 1099511627776 bytes')
        $output | Should -Not -Match '\[-\]' -Because 'the nested run prints nothing, so no red failure shows in the suite log'
    }

    It 'does nothing, and says so, when no process is above the threshold' {
        $results[2].Failed | Should -Be 0 -Because $output
        $results[2].Skipped | Should -Be 4
        @($results[2].SkipReasons) -join ' ' | Should -Match 'nothing to do'
    }
}
