# Invoke-MemoryAdvice checks every range against the live address space before the call that
# carries it, and -Freeze holds the target still (every thread) while it checks and advises.
# Run under flock /tmp/madvps-host.lock: these tests SIGSTOP targets and attach strace.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    function Get-RegionMapping($Target, [string] $Region) {
        Get-MemoryMapping -Id $Target.Id -Address $Target.Region($Region).Start
    }

    # The states of every thread of a process, from /proc/PID/task/TID/stat.
    function Get-ThreadState([int] $Id) {
        foreach ($task in Get-ChildItem "/proc/$Id/task") {
            $stat = Get-Content -Raw "$($task.FullName)/stat"
            [pscustomobject]@{ Thread = [int]$task.Name; State = $stat.Substring($stat.LastIndexOf(')') + 2, 1) }
        }
    }

    function Wait-Until([scriptblock] $Condition, [int] $Seconds = 20) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { return $false }
            Start-Sleep -Milliseconds 20
        }
        $true
    }

    # The real pwsh: the dotnet host and pwsh.dll, not the `dotnet pwsh` tool shim, which does not pass signals on.
    $script:Dotnet = [Environment]::ProcessPath
    $script:PwshDll = [System.Reflection.Assembly]::GetEntryAssembly().Location
}

Describe 'Ranges that changed since they were read' {
    BeforeEach {
        $t = Start-TestTarget -FileMiB 16 -SharedFileMiB 4 -MemfdMiB 4 -AnonMiB 4
        $other = "/tmp/madvps-livecheck-$($t.Id).bin"
    }
    AfterEach { $t.Stop(); Remove-Item -Force $other -ErrorAction SilentlyContinue }

    It 'does not advise a mapping replaced at the same address, and names what differs' {
        $stale = Get-RegionMapping $t 'file'
        $t.Send("remap file $other") | Should -Be 'remapped'
        $now = Get-RegionMapping $t 'file'
        $now.Path | Should -Be $other
        $now.Rss | Should -BeGreaterOrEqual 16MB

        $out = $stale | Invoke-MemoryAdvice -Advice PageOut -PassThru -Verbose -ErrorVariable errs -ErrorAction SilentlyContinue 4>&1
        $result = $out | Where-Object { $_ -is [MadvPS.AdviceResult] }
        $calls = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^process_madvise' })

        $result.Status | Should -Be 'Changed'
        $result.BytesAdvised | Should -Be 0
        $calls | Should -HaveCount 0 -Because 'no call may carry a range that changed'
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'live mappings' }).Message | Should -Match 'PROCMAP_QUERY' -Because 'one range is checked by query on Linux 6.11 and later'
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'RangeChanged,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match ([regex]::Escape("now $other, inode $($now.Inode), was $($stale.Path), inode $($stale.Inode)"))
        (Get-RegionMapping $t 'file').Rss | Should -BeGreaterOrEqual 16MB -Because 'the new mapping was not paged out'
    }

    It 'reports a mapping unmapped since the read without sending it, and advises the others' {
        $three = 'file', 'sharedfile', 'memfd' | ForEach-Object { Get-RegionMapping $t $_ }
        $t.Send('unmap sharedfile') | Should -Be 'unmapped'
        $out = $three | Invoke-MemoryAdvice -Advice PageOut -PassThru -Verbose -ErrorVariable errs -ErrorAction SilentlyContinue 4>&1
        $results = @($out | Where-Object { $_ -is [MadvPS.AdviceResult] })
        $calls = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^process_madvise' })
        $results.Status | Should -Be 'Advised', 'Changed', 'Advised'
        $results[1].Reason | Should -Match 'not mapped any more'
        $calls | Should -HaveCount 1
        $calls[0].Message | Should -Match '2 range\(s\)' -Because 'the unmapped range is not sent'
        # The same check from one read of maps (more ranges than PROCMAP_QUERY is used for) finds the same.
        $many = @($three) + @(Get-MemoryMapping -Id $t.Id | Select-Object -First 70)
        $out = $many | Invoke-MemoryAdvice -Advice Cold -PassThru -Verbose -ErrorAction SilentlyContinue 4>&1
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'live mappings' }).Message | Should -Match '/maps'
        ($out | Where-Object { $_ -is [MadvPS.AdviceResult] -and $_.Start -eq $three[1].Start }).Status | Should -Be 'Changed'
        $errs[0].FullyQualifiedErrorId | Should -Be 'RangeChanged,MadvPS.Commands.InvokeMemoryAdviceCommand'
        (Get-RegionMapping $t 'file').Rss | Should -BeLessThan 1MB
    }

    It 'advises the part of a range that is still mapped and reports the hole' {
        $anon = $t.Region('anon')
        $t.Send("unmap anon $($anon.Length / 2) $($anon.Length)") | Should -Be 'unmapped'
        # The target is a .NET process whose runtime maps memory at any time, and the kernel may put
        # a new mapping in the hole. Stopped, it maps nothing: the VMAs the test reads from
        # /proc/PID/maps are those the advice finds.
        try {
            Stop-TestProcess -Id $t.Id | Should -BeTrue
            $mapped = [System.Collections.Generic.List[object]]::new()
            foreach ($line in Get-Content "/proc/$($t.Id)/maps") {
                $bounds = ($line -split ' ')[0] -split '-'
                $from = [Math]::Max([Convert]::ToUInt64($bounds[0], 16), $anon.Start)
                $to = [Math]::Min([Convert]::ToUInt64($bounds[1], 16), $anon.End)
                if ($from -lt $to) { $mapped.Add([pscustomobject]@{ Start = $from; End = $to }) }
            }
            $mappedBytes = ($mapped | ForEach-Object { $_.End - $_.Start } | Measure-Object -Sum).Sum
            $mapped[0].Start | Should -Be $anon.Start -Because 'the first half is still mapped'
            $mappedBytes | Should -BeLessThan $anon.Length -Because 'the hole is not filled whole'

            $r = Invoke-MemoryAdvice -Id $t.Id -Address $anon.Start -Length $anon.Length -Advice Cold -PassThru -ErrorAction SilentlyContinue -ErrorVariable errs
        }
        finally { kill -CONT $t.Id }
        $r.Status | Should -Be 'Changed'
        $r.BytesAdvised | Should -Be $mappedBytes -Because 'what is mapped in the range is advised'
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'RangeChanged,MadvPS.Commands.InvokeMemoryAdviceCommand'
        # Each hole between the VMAs the test read is named.
        $at = $anon.Start
        foreach ($vma in @($mapped) + [pscustomobject]@{ Start = $anon.End; End = $anon.End }) {
            if ($vma.Start -gt $at) { $errs[0].Exception.Message | Should -Match ([regex]::Escape("$($at.ToString('x'))-$($vma.Start.ToString('x')) is not mapped any more")) }
            $at = $vma.End
        }
    }

    It 'refuses objects read before an exec, by the program they were read from and, without it, by the range check' {
        $stale = Get-MemoryMapping -Id $t.Id | Where-Object Rss -gt 0
        $stale[0].ExecutableId | Should -Match ([regex]::Escape((Get-Item "/proc/$($t.Id)/exe").LinkTarget))
        $t.Process.StandardInput.WriteLine('exec /bin/sleep 600')
        $t.Process.StandardInput.Flush()
        $t.Process.StandardOutput.ReadLine() | Should -Be 'exec'
        Wait-Until { (Get-Content -Raw "/proc/$($t.Id)/comm").Trim() -eq 'sleep' } | Should -BeTrue

        $results = $stale | Invoke-MemoryAdvice -Advice Cold -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $results | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].Exception.Message | Should -Match 'exec'

        # Objects without ExecutableId (older CSV rows): the range check refuses every range that
        # is not the same mapping in the new program.
        $results = $stale | Select-Object -ExcludeProperty ExecutableId | Invoke-MemoryAdvice -Advice Cold -PassThru -ErrorAction SilentlyContinue
        foreach ($r in @($results | Where-Object Status -eq 'Advised')) {
            $r.Path | Should -BeIn @('[vdso]', '[vvar]', '[stack]') -Because "$($r.Start.ToString('x')) $($r.Path) of the old program must not be advised in the new one"
        }
        @($results | Where-Object Status -eq 'Changed').Count | Should -BeGreaterThan 0
    }
}

Describe 'The foretold effect' {
    BeforeAll {
        # Rss of the VMA that starts at $Start, read from /proc/PID/smaps by the test itself.
        function Get-SmapsRss([int] $Id, [ulong] $Start) {
            $hex = $Start.ToString('x')
            $inside = $false
            foreach ($line in Get-Content "/proc/$Id/smaps") {
                if ($line -match '^([0-9a-f]+)-[0-9a-f]+ ') { $inside = $Matches[1] -eq $hex; continue }
                if ($inside -and $line -match '^Rss:\s+(\d+) kB') { return [long]$Matches[1] * 1KB }
            }
            throw "no VMA starts at $hex"
        }
    }

    It 'PageOut of a file mapping takes what was foretold, within 5%' {
        $t = Start-TestTarget -FileMiB 32
        try {
            $m = Get-RegionMapping $t 'file'
            $before = Get-SmapsRss $t.Id $m.Start
            $r = $m | Invoke-MemoryAdvice -Advice PageOut -PassThru
            $taken = $before - (Get-SmapsRss $t.Id $m.Start)
            $r.ForetoldBytes | Should -BeGreaterThan 30MB
            [math]::Abs($r.ForetoldBytes - $taken) | Should -BeLessOrEqual (0.05 * $taken)
            $r.ReclaimedBytes | Should -Be ($r.ResidentBytes - (Get-SmapsRss $t.Id $m.Start))
        }
        finally { $t.Stop() }
    }

    It 'PageOut of anonymous memory with swap takes what was foretold, within 5%, and without swap foretells nothing' {
        $t = Start-TestTarget -AnonMiB 32
        $swap = $null
        try {
            $m = Get-RegionMapping $t 'anon'
            if ([long]((Get-Content /proc/meminfo | Select-String '^SwapFree:\s+(\d+)').Matches[0].Groups[1].Value) -eq 0) {
                # No swap: the kernel keeps anonymous pages (folio_alloc_swap fails), and the forecast says so.
                $r = $m | Invoke-MemoryAdvice -Advice PageOut -PassThru
                $r.ResidentBytes | Should -BeGreaterOrEqual 32MB
                $r.ForetoldBytes | Should -Be 0 -Because 'anonymous pages have no swap to go to'
                (Get-SmapsRss $t.Id $m.Start) | Should -BeGreaterOrEqual 32MB
            }
            $swap = Enable-TestSwap -MiB 128
            if (-not $swap) { Set-ItResult -Skipped -Because 'a swap file needs root'; return }
            $m = Get-RegionMapping $t 'anon'
            $before = Get-SmapsRss $t.Id $m.Start
            $r = $m | Invoke-MemoryAdvice -Advice PageOut -PassThru
            $taken = $before - (Get-SmapsRss $t.Id $m.Start)
            $r.ForetoldBytes | Should -BeGreaterThan 30MB
            [math]::Abs($r.ForetoldBytes - $taken) | Should -BeLessOrEqual (0.05 * $taken)
        }
        finally {
            $t.Stop()
            Disable-TestSwap $swap
        }
    }
}

Describe '-Freeze' {
    It 'stops every thread of a target that maps and unmaps on a second thread, and each call carries only ranges mapped as read at that moment' {
        $t = Start-TestTarget -AnonMiB 4 -Mappings 200
        $trace = "/tmp/madvps-livecheck-strace-$PID.txt"
        try {
            $t.Send('churn-start') | Should -Be 'churning'
            $mappings = Get-MemoryMapping -Id $t.Id
            # strace delays the first process_madvise of a child pwsh by 3 s: the target is frozen then,
            # so this test reads its threads and maps while the call waits.
            $script = "Import-Module '$env:MADVPS_MODULE'; `$m = Import-Clixml '$trace.xml'; `$m | Invoke-MemoryAdvice -Advice Cold -Freeze -FreezeTimeout 30s -ErrorAction SilentlyContinue"
            $mappings | Export-Clixml "$trace.xml"
            $child = Start-Process -PassThru -FilePath strace -ArgumentList @('-f', '--seccomp-bpf', '-qq', '-s', '0', '-X', 'raw', '-e', 'trace=process_madvise', '-e', 'inject=process_madvise:delay_enter=3000000:when=1', '-o', $trace, '-v', '--', $Dotnet, $PwshDll, '-NoProfile', '-NonInteractive', '-Command', $script)
            Wait-Until { (Get-ProcessState $t.Id) -eq 'T' } | Should -BeTrue
            Wait-Until { (Test-Path $trace) -and (Get-Content -Raw $trace) -match 'process_madvise' } | Should -BeTrue
            $threads = @(Get-ThreadState $t.Id)
            $maps = Get-Content "/proc/$($t.Id)/maps" | ForEach-Object {
                $a = ($_ -split ' ')[0] -split '-'
                [pscustomobject]@{ Start = [Convert]::ToUInt64($a[0], 16); End = [Convert]::ToUInt64($a[1], 16) }
            }
            $threads.Count | Should -BeGreaterThan 1
            $threads | Where-Object State -notin 'T', 't' | Should -BeNullOrEmpty -Because 'every thread must be stopped'
            $child.WaitForExit(120000) | Should -BeTrue
            $text = Get-Content -Raw $trace
            $iovecs = [regex]::Matches($text, 'iov_base=0x([0-9a-f]+), iov_len=(\d+)')
            $iovecs.Count | Should -BeGreaterThan 0
            foreach ($v in $iovecs) {
                $start = [Convert]::ToUInt64($v.Groups[1].Value, 16)
                $end = $start + [ulong]$v.Groups[2].Value
                # Covered by the VMAs mapped while the target was stopped (adjacent VMAs may share a range).
                $at = $start
                foreach ($m in $maps | Where-Object { $_.End -gt $start -and $_.Start -lt $end } | Sort-Object Start) {
                    if ($m.Start -gt $at) { break }
                    $at = [Math]::Max($at, $m.End)
                }
                $at | Should -BeGreaterOrEqual $end -Because "the iovec $($start.ToString('x'))-$($end.ToString('x')) must lie in memory mapped while the target was stopped"
            }
            Get-ProcessState $t.Id | Should -Not -Be 'T'
        }
        finally {
            $t.Send('churn-stop') | Out-Null
            $t.Stop()
            Remove-Item -Force $trace, "$trace.xml" -ErrorAction SilentlyContinue
        }
    }

    It '-Freeze -WhatIf sends no signal to the target (Invoke-MemoryAdvice and Set-ProcessMadvise)' {
        $t = Start-TestTarget -AnonMiB 4
        $trace = "/tmp/madvps-livecheck-signals-$PID.txt"
        # The signals the target receives while $Action runs, as strace attached to it sees them.
        function Get-SignalsDuring([scriptblock] $Action) {
            Remove-Item -Force $trace -ErrorAction SilentlyContinue
            $strace = Start-Process -PassThru -FilePath strace -ArgumentList @('-qq', '-e', 'trace=none', '-e', 'signal=SIGSTOP,SIGCONT', '-o', $trace, '-p', $t.Id)
            try {
                Wait-Until { Get-Content "/proc/$($t.Id)/status" | Select-String '^TracerPid:\s+[1-9]' } | Should -BeTrue
                & $Action
            }
            finally {
                kill -INT $strace.Id
                $strace.WaitForExit(10000) | Out-Null
            }
            if (Test-Path $trace) { Get-Content -Raw $trace } else { '' }
        }
        try {
            $quiet = Get-SignalsDuring {
                Get-RegionMapping $t 'anon' | Invoke-MemoryAdvice -Advice Cold -Freeze -WhatIf
                Set-ProcessMadvise -Id $t.Id -Advice Cold -Freeze -WhatIf
            }
            # The control: a real -Freeze shows in the same kind of trace, so the trace can see it.
            $control = Get-SignalsDuring { Get-RegionMapping $t 'anon' | Invoke-MemoryAdvice -Advice Cold -Freeze }
            "$control" | Should -Match 'SIGSTOP'
            "$quiet" | Should -Not -Match 'SIGSTOP|SIGCONT'
            Get-ProcessState $t.Id | Should -Not -Be 'T'
        }
        finally {
            $t.Stop()
            Remove-Item -Force $trace -ErrorAction SilentlyContinue
        }
    }

    It 'does not claim Frozen for a process waiting in vfork, names the thread and its state, and leaves it running' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) "madvps-vfork-$PID"
        New-Item -ItemType Directory -Force $dir | Out-Null
        $program = Join-Path $dir 'vfork-wait'
        # The parent waits in vfork (wait_for_vfork_done, TASK_KILLABLE: state D) while its child sleeps.
        Set-Content "$program.c" '#include <unistd.h>
#include <stdio.h>
int main(void) { printf("ready\n"); fflush(stdout); if (vfork() == 0) { sleep(60); _exit(0); } return 0; }'
        & gcc -O1 -o $program "$program.c"
        $LASTEXITCODE | Should -Be 0
        $info = [System.Diagnostics.ProcessStartInfo]::new($program)
        $info.RedirectStandardOutput = $true
        $parent = [System.Diagnostics.Process]::Start($info)
        try {
            $parent.StandardOutput.ReadLine() | Should -Be 'ready'
            Wait-Until { (Get-ProcessState $parent.Id) -eq 'D' } | Should -BeTrue
            $r = Set-ProcessMadvise -Id $parent.Id -Advice Cold -Freeze -WarningVariable warnings -WarningAction SilentlyContinue
            $r.Frozen | Should -BeFalse
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -Match "thread $($parent.Id) is in state D"
            Wait-Until { (Get-ProcessState $parent.Id) -ne 'T' } | Should -BeTrue
            # -WarningAction Stop: the user chose not to advise an unfrozen process; it is resumed all the same.
            { Set-ProcessMadvise -Id $parent.Id -Advice Cold -Freeze -WarningAction Stop } | Should -Throw
            Wait-Until { (Get-ProcessState $parent.Id) -ne 'T' } | Should -BeTrue
        }
        finally {
            foreach ($child in (Get-Content "/proc/$($parent.Id)/task/$($parent.Id)/children" -ErrorAction SilentlyContinue) -split ' ' | Where-Object { $_ }) { kill -KILL $child }
            if (-not $parent.WaitForExit(10000)) { $parent.Kill() }
            Remove-Item -Recurse -Force $dir
        }
    }

    It 'the target runs again when the pwsh that froze it gets <_>' -ForEach @('TERM', 'HUP', 'KILL', 'INT') {
        $signal = $_
        $t = Start-TestTarget -AnonMiB 4
        $trace = "/tmp/madvps-livecheck-kill-$PID-$signal.txt"
        try {
            $script = "Import-Module '$env:MADVPS_MODULE'; Invoke-MemoryAdvice -Id $($t.Id) -Address $($t.Region('anon').Start) -Length $($t.Region('anon').Length) -Advice Cold -Freeze -FreezeTimeout 1h"
            # strace holds the pwsh at its advice call, so the signal reaches it while the target is frozen.
            # TERM, HUP and INT: strace delays the call for 60 s while the pwsh's other threads run its
            # handlers. KILL runs no handler, so strace stops the whole pwsh instead (SIGSTOP on entering
            # the call): under a delay, strace 6.1 keeps the killed thread at its exit stop until the delay
            # ends ("has delayed wait data set already"), and that thread keeps the guardian's pipe open.
            $hold = if ($signal -eq 'KILL') { 'inject=process_madvise:signal=SIGSTOP' } else { 'inject=process_madvise:delay_enter=60000000' }
            # env --default-signal: a shell without job control starts background commands with SIGINT
            # ignored, and the ignore is inherited through exec; Ctrl+C reaches a pwsh only where it is not.
            $strace = Start-Process -PassThru -FilePath env -ArgumentList @('--default-signal=INT', 'strace', '-f', '--seccomp-bpf', '-qq', '-o', $trace, '-e', 'trace=process_madvise', '-e', $hold, '--', $Dotnet, $PwshDll, '-NoProfile', '-NonInteractive', '-Command', $script)
            Wait-Until { (Get-ProcessState $t.Id) -eq 'T' } | Should -BeTrue -Because 'the child pwsh froze the target'
            $pwsh = [int](Get-Content "/proc/$($strace.Id)/task/$($strace.Id)/children").Trim().Split(' ')[0]
            (Get-Content -Raw "/proc/$pwsh/cmdline") | Should -Match 'pwsh'
            if ($signal -eq 'KILL') {
                Wait-Until { (Get-ProcessState $pwsh) -eq 't' -or (Get-ProcessState $pwsh) -eq 'T' } | Should -BeTrue -Because 'strace stopped the pwsh at its call'
                Get-ProcessState $t.Id | Should -Be 'T' -Because 'the target is still frozen when the pwsh is killed'
            }
            kill "-$signal" $pwsh
            Wait-Until { (Get-ProcessState $t.Id) -ne 'T' } | Should -BeTrue -Because "SIG$signal to the pwsh must leave the target running"
            $t.Send('touch anon') | Should -Be 'touched'
        }
        finally {
            if ($strace -and -not $strace.HasExited) { kill -KILL $strace.Id 2>$null }
            kill -CONT $t.Id
            $t.Stop()
            Remove-Item -Force $trace -ErrorAction SilentlyContinue
        }
    }
}
