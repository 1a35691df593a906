# Inputs a skeptical operator tries: thread IDs, kernel threads, zombies, IDs that are gone.
# Each test measures what the kernel did (the resident bytes of the target's own mappings, read
# from /proc by the test) and checks the error ids and categories.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    # A thread of the process that is not its leader: its TID is not the PID.
    function Get-OtherThread([int] $ProcessId) {
        $tid = Get-ChildItem "/proc/$ProcessId/task" | ForEach-Object { [int]$_.Name } | Where-Object { $_ -ne $ProcessId } | Select-Object -First 1
        if (-not $tid) { throw "process $ProcessId has no second thread" }
        $tid
    }

    # Rss of the target's 'file' region, from its smaps as the kernel writes it.
    function Get-FileRss($Target) {
        $r = $Target.Region('file')
        $rss = 0; $in = $false
        foreach ($line in [System.IO.File]::ReadLines("/proc/$($Target.Id)/smaps")) {
            if ($line -match '^([0-9a-f]+)-([0-9a-f]+) ') {
                $start = [Convert]::ToUInt64($Matches[1], 16)
                $in = $start -ge $r.Start -and $start -lt $r.End
            }
            elseif ($in -and $line -match '^Rss:\s+(\d+) kB') { $rss += [long]$Matches[1] * 1KB }
        }
        $rss
    }

    function Get-Tgid([int] $Id) {
        [int]((Get-Content "/proc/$Id/status" | Where-Object { $_ -like 'Tgid:*' }) -split '\s+')[1]
    }
}

Describe 'Thread IDs mean their process' {
    BeforeAll {
        $a = Start-TestTarget -FileMiB 8
        $b = Start-TestTarget -FileMiB 8
        $tidA = Get-OtherThread $a.Id
    }
    AfterAll { $a.Stop(); $b.Stop() }

    It 'Get-MemoryMapping -Id TID lists the process''s mappings with its ProcessId and the TID in ThreadId' {
        (Get-Tgid $tidA) | Should -Be $a.Id -Because 'the kernel says which process the thread is in'
        $m = @(Get-MemoryMapping -Id $tidA -ErrorVariable errs)
        $errs | Should -BeNullOrEmpty
        $m.Start | Should -Contain $a.Region('file').Start -Because 'the target mapped its file region in the process the thread belongs to'
        $m.ProcessId | Sort-Object -Unique | Should -Be $a.Id
        $m.ThreadId | Sort-Object -Unique | Should -Be $tidA
        (Get-MemoryMapping -Id $a.Id | Select-Object -First 1).ThreadId | Should -BeNullOrEmpty
        (Get-MemoryMapping -Id $tidA -Rollup).ProcessId | Should -Be $a.Id
    }

    It 'Invoke-MemoryAdvice advises a TID and another PID, in the order <Order>' -ForEach @(
        @{ Order = 'TID first' }, @{ Order = 'PID first' }
    ) {
        $a.Send('touch file') | Out-Null; $b.Send('touch file') | Out-Null
        Get-FileRss $a | Should -BeGreaterOrEqual 8MB
        Get-FileRss $b | Should -BeGreaterOrEqual 8MB
        $ra = $a.Region('file'); $rb = $b.Region('file')
        $ranges = @(
            [pscustomobject]@{ ProcessId = $tidA; Start = $ra.Start; Size = $ra.Length }
            [pscustomobject]@{ ProcessId = $b.Id; Start = $rb.Start; Size = $rb.Length }
        )
        if ($Order -eq 'PID first') { [array]::Reverse($ranges) }

        $r = $ranges | Invoke-MemoryAdvice -Advice PageOut -PassThru -ErrorVariable errs

        $errs | Should -BeNullOrEmpty
        $r | Should -HaveCount 2
        $r.Status | Sort-Object -Unique | Should -Be 'Advised'
        ($r | Where-Object ThreadId -EQ $tidA).ProcessId | Should -Be $a.Id
        Get-FileRss $a | Should -BeLessThan 1MB
        Get-FileRss $b | Should -BeLessThan 1MB
    }

    It 'Set-ProcessMadvise advises a TID and another PID, in the order <Order>' -ForEach @(
        @{ Order = 'TID first' }, @{ Order = 'PID first' }
    ) {
        $a.Send('touch file') | Out-Null; $b.Send('touch file') | Out-Null
        $ids = if ($Order -eq 'TID first') { $tidA, $b.Id } else { $b.Id, $tidA }

        $r = Set-ProcessMadvise -Id $ids -Advice PageOut -MappingType File -ErrorVariable errs

        $errs | Should -BeNullOrEmpty
        $r | Should -HaveCount 2
        $r.ProcessId | Should -Be @(if ($Order -eq 'TID first') { $a.Id, $b.Id } else { $b.Id, $a.Id })
        ($r | Where-Object ProcessId -EQ $a.Id).ThreadId | Should -Be $tidA
        Get-FileRss $a | Should -BeLessThan 1MB
        Get-FileRss $b | Should -BeLessThan 1MB
    }

    It 'a TID that no task has is ProcessNotFound, and the next ID is still advised' {
        $a.Send('touch file') | Out-Null
        $gone = Get-FreeProcessId
        Test-Path "/proc/$gone" | Should -BeFalse
        $r = Set-ProcessMadvise -Id $gone, $tidA -Advice PageOut -MappingType File -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -HaveCount 1
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessNotFound,MadvPS.Commands.SetProcessMadviseCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-FileRss $a | Should -BeLessThan 1MB
    }

    It 'the pwsh''s own thread is the caller itself, not another process' {
        $own = Get-OtherThread $PID
        $m = Get-MemoryMapping -Id $PID -Kind Anonymous | Select-Object -First 1
        Invoke-MemoryAdvice -Advice DontNeed -Id $own -Address $m.Start -Length 4096 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'DestructiveAdviceNeedsForce,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
    }
}

Describe 'Kernel threads and zombies are told apart from exited processes' {
    BeforeAll {
        # A kernel thread of this PID namespace, found by its PF_KTHREAD flag; a container's
        # namespace may have none.
        $script:kthread = Get-KernelThreadId
    }

    It 'Set-ProcessMadvise on a kernel thread is ProcessIsKernelThread' {
        if ($null -eq $kthread) { Set-ItResult -Skipped -Because 'this PID namespace shows no kernel thread'; return }
        Set-ProcessMadvise -Id $kthread -Advice Cold -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIsKernelThread,MadvPS.Commands.SetProcessMadviseCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $errs[0].Exception.Message | Should -Not -Match 'exited'
    }

    It 'Invoke-MemoryAdvice on a kernel thread is ProcessIsKernelThread, not ProcessExited' {
        if ($null -eq $kthread) { Set-ItResult -Skipped -Because 'this PID namespace shows no kernel thread'; return }
        Invoke-MemoryAdvice -Advice Cold -Id $kthread -Address 0x400000 -Length 4096 -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIsKernelThread,MadvPS.Commands.InvokeMemoryAdviceCommand'
    }

    It 'a zombie is ProcessIsZombie for Get-MemoryMapping and Set-ProcessMadvise' {
        # sh starts a short sleep, then becomes a long sleep that never reaps it: a zombie.
        $info = [System.Diagnostics.ProcessStartInfo]::new('sh')
        foreach ($arg in '-c', 'sleep 0.1 & exec sleep 60') { $info.ArgumentList.Add($arg) }
        $parent = [System.Diagnostics.Process]::Start($info)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            $zombie = $null
            while (-not $zombie -and [DateTime]::UtcNow -lt $deadline) {
                $children = (Get-Content -Raw "/proc/$($parent.Id)/task/$($parent.Id)/children" -ErrorAction SilentlyContinue)
                foreach ($c in "$children".Trim().Split(' ', [StringSplitOptions]::RemoveEmptyEntries)) {
                    if ((Get-ProcessState ([int]$c)) -eq 'Z') { $zombie = [int]$c }
                }
                if (-not $zombie) { Start-Sleep -Milliseconds 50 }
            }
            $zombie | Should -BeGreaterThan 0 -Because 'the short sleep became a zombie within 10 s'

            Get-MemoryMapping -Id $zombie -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errs | Should -HaveCount 1
            $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIsZombie,MadvPS.Commands.GetMemoryMappingCommand'
            $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errs[0].Exception.Message | Should -Match "parent \(PID $($parent.Id)\)"

            Set-ProcessMadvise -Id $zombie -Advice Cold -ErrorVariable errs2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errs2[0].FullyQualifiedErrorId | Should -Be 'ProcessIsZombie,MadvPS.Commands.SetProcessMadviseCommand'
        }
        finally { $parent.Kill(); $parent.WaitForExit() }
    }

    It '$PID binds to -Id from the pipeline, as the help says' {
        $m = @($PID | Get-MemoryMapping -ErrorVariable errs)
        $errs | Should -BeNullOrEmpty
        $m.Count | Should -BeGreaterThan 10
        $m.ProcessId | Sort-Object -Unique | Should -Be $PID
    }
}

Describe 'Messages that say what is true' {
    BeforeAll { $t = Start-TestTarget -AnonMiB 4 -HugeMiB 8 -FileMiB 4 }
    AfterAll { $t.Stop() }

    It 'a range in the kernel half is not called [vsyscall]' {
        $r = Invoke-MemoryAdvice -Advice Cold -Id $t.Id -Address 0xffff800000000000u -Length 4096 -PassThru
        $r.Status | Should -Be 'Skipped'
        $r.Reason | Should -Not -Match 'vsyscall'
        $r.Reason | Should -Match "kernel's half"
    }

    It 'a range whose Start + Size passes 2^64 says so' {
        $r = Invoke-MemoryAdvice -Advice Cold -Id $t.Id -Address 0xfffffffffffff000u -Length 8192 -PassThru
        $r.Status | Should -Be 'Skipped'
        $r.Reason | Should -Match '2\^64'
        $r.Reason | Should -Not -Match 'vsyscall'
    }

    It 'advice the kernel does not know is refused before sending (AdviceUnknownToKernel)' {
        $unknown = Get-MemoryAdviceSupport | Where-Object { -not $_.KnownByKernel } | Select-Object -First 1
        if (-not $unknown) { Set-ItResult -Skipped -Because 'this kernel knows every advice' }
        $m = Get-MemoryMapping -Id $PID -Kind Anonymous | Select-Object -First 1
        Invoke-MemoryAdvice -Advice $unknown.Advice -Id $PID -Address $m.Start -Length 4096 -Force -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'AdviceUnknownToKernel,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'NotImplemented'
        $errs[0].Exception.Message | Should -Match 'Nothing was sent'
    }

    It 'Set-ProcessMadvise writes one error per kind of failed range, with the reason' {
        # Collapse: every mapping without an aligned 2 MiB block that allows huge pages fails EINVAL.
        $r = Set-ProcessMadvise -Id $t.Id -Advice Collapse -MappingType All -ErrorVariable errs -ErrorAction SilentlyContinue -WarningVariable warns -WarningAction SilentlyContinue
        if ($r.RangesFailed -eq 0) { Set-ItResult -Skipped -Because 'no range failed Collapse on this host' }
        $errs.Count | Should -BeGreaterThan 0
        $errs.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'RangeAdviceFailed,MadvPS.Commands.SetProcessMadviseCommand'
        $messages = @($errs | ForEach-Object { $_.Exception.Message }) + @($warns | ForEach-Object { $_.Message })
        $counted = 0
        foreach ($message in $messages) {
            $message | Should -Match 'failed for (\d+) range\(s\) of process \d+ .*with E[A-Z]+: '
            $null = $message -match 'failed for (\d+) range'
            $counted += [int]$Matches[1]
        }
        $errs.CategoryInfo.Category | Should -Not -Contain 'NotSpecified'
        $counted | Should -Be $r.RangesFailed
        @($messages | ForEach-Object { ($_ -split 'with ')[1].Split(':')[0] } | Sort-Object -Unique).Count | Should -Be $messages.Count
    }
}

Describe 'tools/pwsh passes signals to the real pwsh' {
    It 'SIGTERM to the wrapper ends the pwsh it runs, and no pwsh is left behind' {
        $wrapper = Join-Path $PSScriptRoot '../../tools/pwsh'
        $marker = "madvps-signal-$([guid]::NewGuid().ToString('n'))"
        $info = [System.Diagnostics.ProcessStartInfo]::new($wrapper)
        foreach ($a in '-NoProfile', '-Command', "Start-Sleep 120 # $marker") { $info.ArgumentList.Add($a) }
        $info.RedirectStandardOutput = $true
        $p = [System.Diagnostics.Process]::Start($info)
        try {
            # The wrapper execs dotnet with pwsh.dll: the same PID then runs the real pwsh.
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not ((Get-Content -Raw "/proc/$($p.Id)/cmdline" -ErrorAction SilentlyContinue) -match 'pwsh\.dll') -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            (Get-Content -Raw "/proc/$($p.Id)/cmdline") | Should -Match 'pwsh\.dll'

            & kill -TERM $p.Id

            $p.WaitForExit(20000) | Should -BeTrue -Because 'the signal reached the pwsh that sleeps'
            $left = foreach ($d in Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$') {
                $cmd = Get-Content -Raw "$($d.FullName)/cmdline" -ErrorAction SilentlyContinue
                if ($cmd -and $cmd.Contains($marker)) { $d.Name }
            }
            $left | Should -BeNullOrEmpty -Because 'no orphaned pwsh may run on'
        }
        finally { if (-not $p.HasExited) { $p.Kill($true) }; $p.Dispose() }
    }
}

Describe 'Objects read in another PID namespace' {
    It 'are refused as read in another namespace, not as a PID reused by another process' {
        if (-not (Get-Command unshare -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'unshare (util-linux) is not here' }
        $xml = Join-Path $TestDrive 'ns.xml'
        $pwshDll = Join-Path $PSHOME 'pwsh.dll'
        # Inside a new PID namespace the pwsh is PID 1; out here PID 1 is another process.
        & unshare --pid --fork --mount-proc ([Environment]::ProcessPath) $pwshDll -NoProfile -NonInteractive -Command "Import-Module '$env:MADVPS_MODULE'; Get-MemoryMapping -Id `$PID -Kind Anonymous | Select-Object -First 1 | Export-Clixml -LiteralPath '$xml'"
        $m = Import-Clixml $xml
        $m.ProcessId | Should -Be 1
        $m.PidNamespace | Should -Not -Be ([uint64](& stat -L -c '%i' /proc/self/ns/pid)) -Because 'the kernel gave the namespace its own inode'

        $m | Invoke-MemoryAdvice -Advice Cold -ErrorVariable errs -ErrorAction SilentlyContinue

        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessInOtherPidNamespace,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match 'another PID namespace'
    }
}
