# Tab completion as TabExpansion2 gives it to PSReadLine: -Id, -Name, -Advice and -Window.
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
    BeforeAll {
        # The order an operator reads: what another process may receive, then the rest by MADV
        # number, what destroys data or needs a capability last; written from the kernel's lists
        # (process_madvise_remote_valid, is_discard), not from the completer.
        $script:remote = @('Cold', 'PageOut', 'WillNeed', 'Collapse')
        $script:dangerous = @('DontNeed', 'Free', 'Remove', 'DontFork', 'WipeOnFork', 'DontNeedLocked', 'HwPoison', 'SoftOffline', 'GuardInstall')
        $byValue = [Enum]::GetValues([MadvPS.MemoryAdvice]) | Sort-Object { [int]$_ } | ForEach-Object { [string]$_ }
        $script:expectedOrder = @($remote) + @($byValue | Where-Object { $_ -notin $remote -and $_ -notin $dangerous }) + @($byValue | Where-Object { $_ -in $dangerous })
    }

    It 'offers Invoke-MemoryAdvice what another process may receive first, then the rest, through TabExpansion2' {
        $all = Complete 'Invoke-MemoryAdvice -Advice '
        $all.CompletionText | Should -Be $expectedOrder
        (Complete 'Invoke-MemoryAdvice -Advice Pa').CompletionText | Should -Be 'PageOut'
        (Complete 'Get-MemoryMapping -Id 1 | Invoke-MemoryAdvice -Advice co').CompletionText | Should -Be @('Cold', 'Collapse')
    }

    It 'shows a one-line description of each advice through TabExpansion2, from the same facts as Get-MemoryAdviceSupport' {
        $results = Complete 'Invoke-MemoryAdvice -Advice '
        foreach ($support in Get-MemoryAdviceSupport) {
            $r = $results | Where-Object CompletionText -EQ ([string]$support.Advice)
            $r.ToolTip | Should -BeLike "$($support.Description) (MADV $($support.Value);*"
            $r.ToolTip | Should -Not -Match "`n"
            $r.ResultType | Should -Be 'ParameterValue'
        }
        ($results | Where-Object CompletionText -EQ 'DontNeed').ToolTip | Should -Match 'destroys data'
        ($results | Where-Object CompletionText -EQ 'PageOut').ToolTip | Should -Match 'another process: Linux 5\.10\+'
    }

    It 'offers Set-ProcessMadvise only the advice another process may receive, in that order' {
        (Complete 'Set-ProcessMadvise -Id 1 -Advice ').CompletionText | Should -Be $remote
        (Complete 'Set-ProcessMadvise -Id 1 -Advice c').CompletionText | Should -Be @('Cold', 'Collapse')
    }

    It 'still takes -Advice by name, in any case, as the enum value and by number; the results carry the enum' {
        $t = $target.Region('anon')
        foreach ($advice in 'Cold', 'cold', [MadvPS.MemoryAdvice]::Cold, 20) {
            $r = Invoke-MemoryAdvice -Id $target.Id -Address $t.Start -Length 4096 -Advice $advice -PassThru
            $r.Advice | Should -BeOfType [MadvPS.MemoryAdvice]
            $r.Advice | Should -Be ([MadvPS.MemoryAdvice]::Cold)
        }
        (Set-ProcessMadvise -Id $target.Id -Advice ([MadvPS.MemoryAdvice]::Cold) -MappingType Anonymous).Advice | Should -BeOfType [MadvPS.MemoryAdvice]
    }

    It 'refuses an unknown advice at binding, naming the known ones, and Set-ProcessMadvise one another process may not receive' {
        { Invoke-MemoryAdvice -Id $target.Id -Address 4096 -Length 4096 -Advice Nonsense } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,MadvPS.Commands.InvokeMemoryAdviceCommand' -ExpectedMessage '*PageOut*'
        { Invoke-MemoryAdvice -Id $target.Id -Address 4096 -Length 4096 -Advice 999 } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,MadvPS.Commands.InvokeMemoryAdviceCommand'
        { Set-ProcessMadvise -Id $target.Id -Advice DontNeed } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,MadvPS.Commands.SetProcessMadviseCommand' -ExpectedMessage '*Cold, *PageOut*'
    }
}

Describe '-Window completion' {
    It 'completes durations, not file names' {
        Push-Location $TestDrive
        try {
            New-Item -ItemType File -Path (Join-Path $TestDrive '1m-not-a-duration.txt') | Out-Null
            $all = Complete 'Measure-MemoryAccess -Id 1 -Window '
            $all.CompletionText | Should -Be @('10s', '30s', '1m', '5m')
            $all | ForEach-Object { $_.ToolTip | Should -Not -BeNullOrEmpty }
            (Complete 'Measure-MemoryAccess -Id 1 -Window 1').CompletionText | Should -Be @('10s', '1m')
        }
        finally { Pop-Location }
    }
}
