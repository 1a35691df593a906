# Tab completion as TabExpansion2 gives it to PSReadLine: -Id, -Name and -Advice.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:target = Start-TestTarget -AnonMiB 1
    $script:targetName = (Get-MemoryMapping -Id $target.Id -Rollup).ProcessName
    function script:Complete([string] $line) {
        @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
    }
}

AfterAll {
    if ($script:target) { $script:target.Stop() }
}

Describe '-Id completion' {
    It 'completes PIDs from what was typed, each listed with its process name' -ForEach @(
        @{ Line = 'Get-MemoryMapping -Id ' }, @{ Line = 'Set-ProcessMadvise -Advice Cold -Id ' }, @{ Line = 'Invoke-MemoryAdvice -Advice Cold -Address 4096 -Length 4096 -Id ' }
    ) {
        $prefix = ([string]$target.Id).Substring(0, ([string]$target.Id).Length - 1)
        $matches = Complete ($Line + $prefix)
        $hit = $matches | Where-Object CompletionText -EQ ([string]$target.Id)
        $hit | Should -HaveCount 1
        $hit.ListItemText | Should -Be "$($target.Id) $targetName"
        $hit.ToolTip | Should -Match "^$([regex]::Escape($targetName)) \($($target.Id)\): .*MadvPS\.Target"
        $matches | ForEach-Object { $_.CompletionText | Should -BeLike "$prefix*" }
    }

    It 'completes a process name typed in place of a PID to its PIDs' {
        $matches = Complete "Get-MemoryMapping -Id $($targetName.Substring(0, 3))"
        $matches.CompletionText | Should -Contain ([string]$target.Id)
        $matches.CompletionText | Should -Contain ([string]$PID)
    }

    It 'leaves out kernel threads, which have no memory' {
        $kthread = Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' |
            Where-Object { -not (Get-Content -Raw -ErrorAction SilentlyContinue "/proc/$($_.Name)/cmdline") -and (Test-Path "/proc/$($_.Name)/stat") } | Select-Object -First 1
        if (-not $kthread) { Set-ItResult -Skipped -Because 'this host shows no kernel thread in /proc' }
        (Complete "Get-MemoryMapping -Id $($kthread.Name)").CompletionText | Should -Not -Contain $kthread.Name
    }
}

Describe '-Name completion' {
    It 'completes running process names from a prefix, with how many run and their PIDs in the tooltip' -ForEach @(
        @{ Command = 'Get-MemoryMapping' }, @{ Command = 'Set-ProcessMadvise -Advice Cold' }
    ) {
        $matches = Complete "$Command -Name $($targetName.Substring(0, 3))"
        $hit = $matches | Where-Object CompletionText -EQ $targetName
        $hit | Should -HaveCount 1
        $hit.ToolTip | Should -Match "^$([regex]::Escape($targetName)): (process \d+|\d+ processes \(\d+, )"
        $matches | ForEach-Object { $_.ListItemText | Should -BeLike "$($targetName.Substring(0, 3))*" }
    }

    It 'offers each name once' {
        $all = Complete 'Get-MemoryMapping -Name '
        $all.Count | Should -BeGreaterThan 1
        ($all.CompletionText | Sort-Object -Unique).Count | Should -Be $all.Count
    }
}

Describe '-Advice completion' {
    It 'offers every advice to Invoke-MemoryAdvice, matched by prefix' {
        (Complete 'Invoke-MemoryAdvice -Advice Pa').CompletionText | Should -Be 'PageOut'
        (Complete 'Invoke-MemoryAdvice -Advice ').Count | Should -Be ([Enum]::GetNames([MadvPS.MemoryAdvice]).Count)
    }

    It 'offers Set-ProcessMadvise only the advice another process may receive' {
        (Complete 'Set-ProcessMadvise -Id 1 -Advice ').CompletionText | Sort-Object | Should -Be @('Cold', 'Collapse', 'PageOut', 'WillNeed')
    }

    It 'has a one-line description of each advice, from the same facts as Get-MemoryAdviceSupport' {
        # PowerShell completes enum and ValidateSet parameters itself, before any [ArgumentCompleter]
        # (CompletionCompleters.ProcessParameter); the completer is called here directly.
        $results = @([MadvPS.Commands.AdviceCompleter]::new().CompleteArgument('Invoke-MemoryAdvice', 'Advice', '', $null, @{}))
        $results.Count | Should -Be ([Enum]::GetNames([MadvPS.MemoryAdvice]).Count)
        foreach ($support in Get-MemoryAdviceSupport) {
            $r = $results | Where-Object CompletionText -EQ ([string]$support.Advice)
            $r.ToolTip | Should -BeLike "$($support.Description) (MADV $($support.Value);*"
            $r.ToolTip | Should -Not -Match "`n"
        }
        ($results | Where-Object CompletionText -EQ 'DontNeed').ToolTip | Should -Match 'destroys data'
        ($results | Where-Object CompletionText -EQ 'PageOut').ToolTip | Should -Match 'another process: Linux 5\.10\+'
        $other = [MadvPS.Commands.OtherProcessAdviceCompleter]::new().CompleteArgument('Set-ProcessMadvise', 'Advice', 'c', $null, @{})
        $other.CompletionText | Should -Be @('Cold', 'Collapse')
    }
}
