# Reliability and safety under races, faults and missing privileges (docs/reliability.md).
# Each Describe proves one guarantee against real processes; the figures each run sees are
# written with Write-Host so that a run's log shows them.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    # The interop counts its process_madvise calls; the tests read the count to prove that a
    # refusal, -WhatIf or a stop sent nothing.
    $script:adviceCounter = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc').GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')
    function Get-AdviceCalls { [long]$script:adviceCounter.GetValue($null) }

    # The descriptors the module opens: pidfds and /proc files. Anything else (assemblies the
    # runtime maps as it loads them) is not the module's.
    function Get-ModuleDescriptors {
        @(Get-ChildItem /proc/$PID/fd | Where-Object {
                $_.LinkTarget -match '^(anon_inode:\[pidfd\]|pidfd:)' -or $_.LinkTarget -match '^/proc/\d+/(smaps|smaps_rollup|stat|cmdline)$'
            } | ForEach-Object LinkTarget)
    }

    function Get-ProcessState([int] $Id) {
        $stat = [IO.File]::ReadAllText("/proc/$Id/stat")
        $stat[$stat.LastIndexOf(')') + 2]
    }

    # A fresh pwsh of this installation, as build.ps1 starts it.
    $script:pwshDll = Join-Path $PSHOME 'pwsh.dll'
    $script:dotnet = [Environment]::ProcessPath

    # PageOut isolates pages from the LRU lists; pages faulted in on another CPU moments before can
    # still sit in that CPU's lru_add folio batch (up to 31 folios, mm/swap.c), which the caller's
    # lru_add_drain() does not reach, so up to that many may stay resident.
    $script:LruBatchSlack = 31 * 4KB

    # The advices that destroy data: the kernel's is_discard() list, and HwPoison.
    $script:destructive = [MadvPS.MemoryAdvice[]]@('DontNeed', 'Free', 'Remove', 'DontFork', 'WipeOnFork', 'GuardInstall', 'DontNeedLocked', 'HwPoison')
}

Describe 'Processes that vanish during a run' {
    It 'gives per-process errors at most, never a terminating one, leaks no descriptor and leaves none stopped' {
        $rounds = 3
        $perRound = 100
        # A process that has exited and is not reaped yet is a zombie, and is told as one.
        $allowed = 'ProcessNotFound', 'ProcessExited', 'ProcessIsZombie'
        # Load everything once, so that the descriptor count sees only what the run leaves.
        $warm = [Diagnostics.Process]::Start('sleep', '30')
        Get-MemoryMapping -Id $warm.Id -Rollup | Out-Null
        Set-ProcessMadvise -Id $warm.Id -Advice Cold -Freeze | Out-Null
        $warm.Kill(); $warm.WaitForExit(); $warm.Dispose()
        $descriptorsBefore = Get-ModuleDescriptors

        $started = 0; $exited = 0; $terminating = @(); $ours = @{}; $others = @{}
        $script:rolledUp = 0; $script:read = 0; $script:advised = 0
        foreach ($round in 1..$rounds) {
            # Short-lived processes that exit at random times during the three commands.
            $procs = @(1..$perRound | ForEach-Object { [Diagnostics.Process]::Start('sleep', ('{0:0.000}' -f ((Get-Random -Minimum 0 -Maximum 2500) / 1000))) })
            $ids = [Collections.Generic.HashSet[int]]::new([int[]]$procs.Id)
            $started += $procs.Count
            $e1 = $e2 = $e3 = $null
            $commands = @(
                { $script:rolledUp += @(Get-Process | Get-MemoryMapping -Rollup -ErrorVariable e1 -ErrorAction SilentlyContinue | Where-Object { $ids.Contains($_.ProcessId) }).Count }
                { $script:read += @($procs | Get-MemoryMapping -ErrorVariable e2 -ErrorAction SilentlyContinue | Select-Object -ExpandProperty ProcessId -Unique).Count }
                { $script:advised += @(Set-ProcessMadvise -Id $procs.Id -Advice Cold -Freeze:($round % 2 -eq 1) -ErrorVariable e3 -ErrorAction SilentlyContinue).Count }
            )
            try {
                # Each command goes first in one round, while most of the processes are alive.
                foreach ($k in 0..2) { . $commands[($k + $round) % 3] }
            }
            catch {
                $terminating += $_
            }
            foreach ($e in @($e1) + @($e2) + @($e3) | Where-Object { $_ }) {
                # An error variable holds ErrorRecords; anything else there (the exception of a
                # terminating error) is counted as terminating, and shown by the assertion below.
                if ($e -isnot [System.Management.Automation.ErrorRecord]) { $terminating += "$($e.GetType().FullName): $e"; continue }
                $targetId = if ($e.TargetObject -is [Diagnostics.Process]) { $e.TargetObject.Id } else { [int]"$($e.TargetObject)" }
                $bucket = if ($ids.Contains($targetId)) { $ours } else { $others }
                $bucket[$e.FullyQualifiedErrorId.Split(',')[0]] += 1
            }
            # Every process ends: none was left stopped by -Freeze.
            foreach ($p in $procs) {
                if ($p.WaitForExit(10000)) { $exited++ } else { $p.Kill() }
                $p.Dispose()
            }
        }

        Write-Host ("    {0} processes started and exited; {1} rollups, {2} mapping lists and {3} advices done; their errors: {4}; other processes' errors: {5}" -f
            $started, $rolledUp, $read, $advised, (($ours.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', '),
            (($others.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', '))
        $terminating | Should -BeNullOrEmpty
        $exited | Should -Be $started
        @($ours.Keys | Where-Object { $_ -notin $allowed }) | Should -BeNullOrEmpty
        # Processes of other users (PID 1 of a container, say) may be unreadable; nothing else.
        @($others.Keys | Where-Object { $_ -notin ($allowed + 'ProcessAccessDenied') }) | Should -BeNullOrEmpty
        # The run did meet processes that vanished, and read and advised live ones.
        ($ours.Values | Measure-Object -Sum).Sum | Should -BeGreaterThan 0
        $rolledUp | Should -BeGreaterThan 0
        $read | Should -BeGreaterThan 0
        $advised | Should -BeGreaterThan 0
        [GC]::Collect(); [GC]::WaitForPendingFinalizers()
        $descriptorsAfter = Get-ModuleDescriptors
        $descriptorsAfter.Count | Should -Be $descriptorsBefore.Count -Because "the module's descriptors after the run are: $($descriptorsAfter -join ', ')"

    }
}

Describe 'Advice aimed at a process that was replaced' {
    BeforeAll {
        $script:target = Start-TestTarget -FileMiB 4
    }

    AfterAll {
        if ($script:target) { $script:target.Stop() }
    }

    It 'refuses it after a real PID reuse, and no call reaches the new process' {
        if (-not (Get-Command unshare -ErrorAction Ignore)) { Set-ItResult -Skipped -Because 'unshare (util-linux) is not installed'; return }
        $resultFile = Join-Path ([IO.Path]::GetTempPath()) "madvps-pidreuse-$([guid]::NewGuid().ToString('n')).json"
        $hostPidMax = [IO.File]::ReadAllText('/proc/sys/kernel/pid_max').Trim()
        try {
            # A new PID namespace with its own /proc, so that a lowered pid_max (per namespace since
            # Linux 6.14; the script skips on older kernels) wraps PIDs without touching the host's.
            & unshare --pid --fork --mount-proc $dotnet $pwshDll -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Reliability/PidReuse.ps1') -ResultFile $resultFile -HostPidNamespace (Get-Item /proc/self/ns/pid).LinkTarget
            $r = Get-Content -Raw $resultFile | ConvertFrom-Json
        }
        finally {
            Remove-Item $resultFile -ErrorAction SilentlyContinue
        }
        # Whatever happened inside, the host's pid_max is the one it had.
        [IO.File]::ReadAllText('/proc/sys/kernel/pid_max').Trim() | Should -Be $hostPidMax -Because "the test must not change the host's pid_max"
        if ($r.PSObject.Properties['Skipped']) { Set-ItResult -Skipped -Because $r.Skipped; return }
        $r.PSObject.Properties['Error'] | Should -BeNullOrEmpty
        Write-Host "    PID $($r.APid) reused after $($r.Tries) start(s) of B in a namespace with pid_max $($r.PidMax); A started at tick $($r.AStartTime), B at $($r.BStartTime)"
        $r.BPid | Should -Be $r.APid
        $r.BStartTime | Should -Not -Be $r.AStartTime

        # A's mappings as they were read: one refusal, no call.
        $r.RealMappings.Errors | Should -Be @('ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand')
        $r.RealMappings.Category | Should -Be @('InvalidData')
        $r.RealMappings.Message[0] | Should -Match 'no longer the process that was read'
        $r.RealMappings.Calls | Should -Be 0
        $r.RealMappings.Results | Should -Be 0

        # A's identity aimed at B's pages: refused, and B's pages stay.
        $r.Aimed.Errors | Should -Be @('ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand')
        $r.Aimed.Calls | Should -Be 0
        $r.Aimed.ResidentAfter | Should -Be $r.BResidentBefore

        # The same range with B's identity is advised and B's pages go: a call that reached B shows.
        $r.Control.Errors | Should -BeNullOrEmpty
        $r.Control.Calls | Should -BeGreaterThan 0
        $r.BResidentBefore | Should -Be 8MB
        $r.Control.ResidentAfter | Should -BeLessOrEqual $LruBatchSlack
    }

    It 'refuses a mapping whose <Property> was altered, and sends nothing' -ForEach @(
        @{ Property = 'ProcessStartTime'; Change = { param($m) $m.ProcessStartTime = $m.ProcessStartTime + 1 } }
        @{ Property = 'BootId'; Change = { param($m) $m.BootId = [guid]::NewGuid().ToString() } }
    ) {
        $null = $target.Send('touch file')
        $resident = $target.Resident('file')
        $m = Get-TargetMapping $target 'file' | Select-Object ProcessId, Start, Size, ProcessStartTime, BootId, Path, Kind, VmFlags
        & $Change $m
        $calls = Get-AdviceCalls
        $m | Invoke-MemoryAdvice -Advice PageOut -ErrorVariable errs -ErrorAction SilentlyContinue
        (Get-AdviceCalls) - $calls | Should -Be 0
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match 'read (its mappings|the mappings) again'
        $target.Resident('file') | Should -Be $resident
    }
}

Describe 'An unprivileged user' {
    BeforeAll {
        # A user no one else is: an unused uid with no passwd entry, which setpriv can take on.
        $taken = [Collections.Generic.HashSet[string]]::new([string[]]@((Get-Content /etc/passwd | ForEach-Object { ($_ -split ':')[2] }) + (& ps -e -o uid= | ForEach-Object Trim)))
        do { $script:uid = Get-Random -Minimum 50000 -Maximum 60000 } while ($taken.Contains([string]$uid))

        # The pinned pwsh lives under /root, which the user cannot enter: a copy of it (hard links
        # where /tmp is on the same file system), of the module and of the target, in a folder
        # the user can read, removed afterwards.
        $script:sandbox = Join-Path ([IO.Path]::GetTempPath()) "madvps-nonroot-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $sandbox | Out-Null
        & chmod 755 $sandbox
        & cp -al $PSHOME (Join-Path $sandbox 'pwsh') 2>$null
        if ($LASTEXITCODE -ne 0) { & cp -a $PSHOME (Join-Path $sandbox 'pwsh') }
        New-Item -ItemType Directory -Path (Join-Path $sandbox 'module') | Out-Null
        Copy-Item -Recurse (Split-Path $env:MADVPS_MODULE) (Join-Path $sandbox 'module/MadvPS')
        Copy-Item -Recurse (Split-Path $env:MADVPS_TARGET) (Join-Path $sandbox 'target')
        Copy-Item (Join-Path $PSScriptRoot 'TestHelpers.psm1'), (Join-Path $PSScriptRoot 'Reliability/NotRoot.ps1') $sandbox
        $script:userHome = Join-Path $sandbox 'home'
        New-Item -ItemType Directory -Path (Join-Path $userHome 'tmp') | Out-Null
        & chown -R "${uid}:${uid}" $userHome

        # Another user's process: root's.
        $script:rootTarget = Start-TestTarget -AnonMiB 4 -FileMiB 4
        $script:rootChecksum = $rootTarget.Checksum('')
        $script:rootResident = $rootTarget.Resident('file')
        Get-TargetMapping $rootTarget 'file' | Select-Object ProcessId, Start, Size, ProcessStartTime, BootId, Path, Kind, VmFlags |
            ConvertTo-Json | Set-Content (Join-Path $sandbox 'other.json')

        function Start-AsUser([switch] $CapSysNice) {
            $resultFile = Join-Path $userHome "result-$([int][bool]$CapSysNice).json"
            $info = [Diagnostics.ProcessStartInfo]::new('setpriv')
            $arguments = @('--reuid', $uid, '--regid', $uid, '--clear-groups')
            if ($CapSysNice) { $arguments += '--inh-caps', '+sys_nice', '--ambient-caps', '+sys_nice' }
            $arguments += '--', $dotnet, (Join-Path $sandbox 'pwsh/pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', (Join-Path $sandbox 'NotRoot.ps1'),
                '-ResultFile', $resultFile, '-OtherId', $rootTarget.Id, '-OtherMappingFile', (Join-Path $sandbox 'other.json')
            foreach ($a in $arguments) { $info.ArgumentList.Add([string]$a) }
            $info.Environment['HOME'] = $userHome
            $info.Environment['DOTNET_CLI_HOME'] = $userHome
            $info.Environment['TMPDIR'] = Join-Path $userHome 'tmp'
            $info.Environment['PSModulePath'] = Join-Path $sandbox 'module'
            $info.Environment['MADVPS_MODULE'] = Join-Path $sandbox 'module/MadvPS/MadvPS.psd1'
            $info.Environment['MADVPS_TARGET'] = Join-Path $sandbox 'target/MadvPS.Target.dll'
            $info.RedirectStandardOutput = $true
            $info.RedirectStandardError = $true
            $p = [Diagnostics.Process]::Start($info)
            @{ Process = $p; ResultFile = $resultFile; Stdout = $p.StandardOutput.ReadToEndAsync(); Stderr = $p.StandardError.ReadToEndAsync() }
        }

        function Wait-AsUser($run) {
            if (-not $run.Process.WaitForExit(180000)) { $run.Process.Kill(); throw 'The unprivileged pwsh did not finish in 3 minutes.' }
            if (-not (Test-Path $run.ResultFile)) { throw "The unprivileged pwsh wrote no result (exit code $($run.Process.ExitCode)): $($run.Stderr.Result) $($run.Stdout.Result)" }
            Get-Content -Raw $run.ResultFile | ConvertFrom-Json
        }

        # Without and with CAP_SYS_NICE, side by side.
        $runs = (Start-AsUser), (Start-AsUser -CapSysNice)
        $script:plain = Wait-AsUser $runs[0]
        $script:nice = Wait-AsUser $runs[1]
    }

    AfterAll {
        if ($script:rootTarget) { $rootTarget.Stop() }
        # Anything the user left running is ours alone (the uid is used by nothing else).
        if ($script:uid) {
            foreach ($line in & ps -e -o pid=,uid=) {
                $w = $line.Trim() -split '\s+'
                if ($w[1] -eq [string]$uid) { & kill -9 $w[0] }
            }
        }
        if ($script:sandbox) { Remove-Item -Recurse -Force $sandbox -ErrorAction SilentlyContinue }
    }

    It 'ran as that user, with CAP_SYS_NICE only when it was given' {
        foreach ($r in $plain, $nice) {
            $r.PSObject.Properties['Error'] | Should -BeNullOrEmpty
            $r.Uid | Should -Be $uid
        }
        $plain.HasCapSysNice | Should -BeFalse
        $nice.HasCapSysNice | Should -BeTrue
    }

    It "cannot read another user's mappings: PermissionDenied, naming ptrace access" {
        foreach ($r in $plain, $nice) {
            foreach ($o in $r.ReadOther, $r.RollupOther) {
                $o.Terminating | Should -BeNullOrEmpty
                $o.Output | Should -Be 0
                $o.Errors | Should -Be @('ProcessAccessDenied,MadvPS.Commands.GetMemoryMappingCommand')
                $o.Categories | Should -Be @('PermissionDenied')
                $o.Messages[0] | Should -Match 'ptrace'
            }
        }
    }

    It "cannot advise another user's process, even with CAP_SYS_NICE: PermissionDenied, naming ptrace access" {
        foreach ($r in $plain, $nice) {
            $r.SetOther.Errors | Should -Be @('ProcessAccessDenied,MadvPS.Commands.SetProcessMadviseCommand')
            $r.SetOther.Categories | Should -Be @('PermissionDenied')
            $r.SetOther.Messages[0] | Should -Match 'ptrace'
            $r.SetOther.Calls | Should -Be 0
            # The mapping read by root and handed over: the kernel's ptrace check refuses the call (EACCES).
            $r.InvokeOther.Errors | Should -Be @('ProcessAdviceRefused,MadvPS.Commands.InvokeMemoryAdviceCommand')
            $r.InvokeOther.Categories | Should -Be @('PermissionDenied')
            $r.InvokeOther.Messages[0] | Should -Match 'ptrace access check'
            $r.InvokeOther.Output | Should -Be 0
        }
        $rootTarget.Resident('file') | Should -Be $rootResident
        $rootTarget.Checksum('') | Should -Be $rootChecksum
    }

    It 'reads its own processes, but advising them needs CAP_SYS_NICE, as documented' {
        $plain.ReadOwn.Errors | Should -BeNullOrEmpty
        $plain.ReadOwn.Output | Should -BeGreaterThan 10
        foreach ($o in $plain.InvokeOwn, $plain.SetOwn) {
            $o.Errors.Count | Should -Be 1
            $o.Errors[0] | Should -BeLike 'ProcessAdviceRefused,*'
            $o.Categories | Should -Be @('PermissionDenied')
            $o.Messages[0] | Should -Match 'CAP_SYS_NICE'
        }
        $plain.OwnResidentAfterInvoke | Should -Be $plain.OwnResidentBefore
        $plain.OwnResidentAfterSet | Should -Be $plain.OwnResidentBeforeSet
    }

    It 'advises its own processes with CAP_SYS_NICE: their file pages go' {
        $nice.InvokeOwn.Errors | Should -BeNullOrEmpty
        $nice.InvokeOwn.Statuses | Should -Be @('Advised')
        $nice.OwnResidentBefore | Should -Be 8MB
        $nice.OwnResidentAfterInvoke | Should -BeLessOrEqual $LruBatchSlack
        $nice.SetOwn.Errors | Should -BeNullOrEmpty
        $nice.SetOwn.Output | Should -Be 1
        $nice.OwnResidentBeforeSet | Should -Be 8MB
        $nice.OwnResidentAfterSet | Should -BeLessOrEqual $LruBatchSlack
    }

    It 'advises itself without any capability, and refuses data loss on itself without -Force' {
        if ((Get-KernelVersion) -lt [version]'6.13') { Set-ItResult -Skipped -Because "process_madvise needs no capability for the caller itself only since Linux 6.13; this is $(Get-KernelVersion)"; return }
        foreach ($r in $plain, $nice) {
            $r.SelfCold.Errors | Should -BeNullOrEmpty
            $r.SelfCold.Statuses | Should -Be @('Advised')
            $r.SelfCold.Calls | Should -BeGreaterThan 0
            $r.SelfDontNeed.Errors | Should -Be @('DestructiveAdviceNeedsForce,MadvPS.Commands.InvokeMemoryAdviceCommand')
            $r.SelfDontNeed.Calls | Should -Be 0
        }
    }
}

Describe 'Stops during Set-ProcessMadvise -Freeze' {
    BeforeAll {
        $script:big = Start-TestTarget -AnonMiB 32 -Mappings 40000
        $script:runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $script:shell = [powershell]::Create($runspace)
        $null = $shell.AddCommand('Import-Module').AddArgument($env:MADVPS_MODULE).Invoke()
    }

    AfterAll {
        if ($script:shell) { $shell.Dispose() }
        if ($script:runspace) { $runspace.Dispose() }
        if ($script:big) { $big.Stop() }
    }

    It 'leaves the target running when the pipeline is stopped while the target is frozen' {
        $stops = 5
        $checksum = $big.Checksum('anon')
        $shell.Commands.Clear()
        $null = $shell.AddCommand('Set-ProcessMadvise').AddParameter('Id', $big.Id).AddParameter('Advice', 'Cold').AddParameter('Freeze')
        $report = @()
        foreach ($i in 1..$stops) {
            $async = $shell.BeginInvoke()
            # Stop only once the target is seen stopped (T in /proc/PID/stat): the stop then lands
            # inside the frozen window (reading 40000 mappings and advising them) by construction.
            $deadline = [Diagnostics.Stopwatch]::StartNew()
            while (($state = Get-ProcessState $big.Id) -ne 'T' -and -not $async.IsCompleted -and $deadline.ElapsedMilliseconds -lt 30000) { }
            $state | Should -Be 'T' -Because "run ${i}: the target is frozen before the run ends"
            $shell.Stop()
            try { $null = $shell.EndInvoke($async) } catch [Management.Automation.PipelineStoppedException] { }
            $shell.InvocationStateInfo.State | Should -Be 'Stopped' -Because "run ${i} was stopped, not completed"
            $now = Get-ProcessState $big.Id
            $now | Should -Not -Be 'T' -Because "run ${i}: Stop() returns after the target was resumed"
            $report += $now
        }
        Write-Host "    $stops stops while the target was frozen; its state right after each: $($report -join ' ')"
        # The target runs: it answers, and its data is whole.
        $big.Checksum('anon') | Should -Be $checksum
    }
}

Describe 'Advice that destroys data' {
    BeforeAll {
        $script:victim = Start-TestTarget -AnonMiB 4 -SharedFileMiB 1
        $script:victimChecksum = $victim.Checksum('')
    }

    AfterAll {
        if ($script:victim) { $victim.Stop() }
    }

    It 'refuses <_> for another process, even with -Force -Confirm:$false, and sends nothing' -ForEach @('DontNeed', 'Free', 'Remove', 'DontFork', 'WipeOnFork', 'GuardInstall', 'DontNeedLocked', 'HwPoison') {
        $calls = Get-AdviceCalls
        Get-TargetMapping $victim 'anon' | Invoke-MemoryAdvice -Advice $_ -Force -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        Get-TargetMapping $victim 'sharedfile' | Invoke-MemoryAdvice -Advice $_ -Force -Confirm:$false -ErrorVariable +errs -ErrorAction SilentlyContinue
        (Get-AdviceCalls) - $calls | Should -Be 0
        $errs | Should -HaveCount 2
        $errs.FullyQualifiedErrorId | Sort-Object -Unique | Should -Be 'AdviceNotAllowedForOtherProcess,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].Exception.Message | Should -Match 'destroys data'
        { Set-ProcessMadvise -Id $victim.Id -Advice $_ } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MadvPS.Commands.SetProcessMadviseCommand'
        $victim.Checksum('') | Should -Be $victimChecksum
    }

    It 'makes no process_madvise call with -WhatIf or a refusal, as strace sees it' {
        if (-not (Get-Command strace -ErrorAction Ignore)) { Set-ItResult -Skipped -Because 'strace is not installed'; return }
        $work = Join-Path ([IO.Path]::GetTempPath()) "madvps-strace-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $work | Out-Null
        try {
            $script = Join-Path $work 'whatif.ps1'
            @'
param([int] $VictimId, [ulong] $VictimAddress)
Import-Module $env:MADVPS_MODULE
$mine = Get-MemoryMapping -Id $PID | Where-Object { $_.Permissions -eq 'rw-p' -and $_.Kind -eq 'Anonymous' -and $_.Rss -gt 0 } | Select-Object -First 1
foreach ($advice in 'DontNeed', 'Free', 'Remove', 'DontFork', 'WipeOnFork', 'GuardInstall', 'DontNeedLocked', 'HwPoison') {
    Invoke-MemoryAdvice -Id $PID -Address $mine.Start -Length 4096 -Advice $advice -Force -WhatIf
    Invoke-MemoryAdvice -Id $PID -Address $mine.Start -Length 4096 -Advice $advice -ErrorAction SilentlyContinue
    Get-MemoryMapping -Id $VictimId -Address $VictimAddress | Invoke-MemoryAdvice -Advice $advice -Force -Confirm:$false -ErrorAction SilentlyContinue
    Get-MemoryMapping -Id $VictimId -Address $VictimAddress | Invoke-MemoryAdvice -Advice $advice -Force -WhatIf
}
# The control: one advice that is sent, so that the trace is shown to see calls.
Invoke-MemoryAdvice -Id $PID -Address $mine.Start -Length 4096 -Advice Cold
'@ | Set-Content -Path $script
            $log = Join-Path $work 'trace'
            & strace -f --seccomp-bpf -e trace=process_madvise -o $log $dotnet $pwshDll -NoProfile -NonInteractive -File $script -VictimId $victim.Id -VictimAddress $victim.Region('anon').Start *> $null
            $calls = @(Get-Content $log | Where-Object { $_ -match 'process_madvise\(' })
            Write-Host "    strace saw $($calls.Count) process_madvise call(s) for 32 refused or -WhatIf commands and 1 control"
            $calls | Should -HaveCount 1
            $calls[0] | Should -Match 'MADV_COLD'
        }
        finally {
            Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
        }
        $victim.Checksum('') | Should -Be $victimChecksum
    }
}

Describe 'Advice to 50 processes at once from parallel runspaces' {
    BeforeAll {
        # Started together, then waited for, so that the 50 starts overlap.
        $script:fleet = [Collections.Generic.List[object]]::new()
        $pending = foreach ($i in 1..50) {
            $info = [Diagnostics.ProcessStartInfo]::new($dotnet)
            foreach ($a in @($env:MADVPS_TARGET, '--file-mib', '2', '--anon-mib', [string](1 + $i % 4))) { $info.ArgumentList.Add($a) }
            $info.RedirectStandardInput = $true
            $info.RedirectStandardOutput = $true
            [Diagnostics.Process]::Start($info)
        }
        foreach ($p in $pending) {
            $regions = @{}
            while (($line = $p.StandardOutput.ReadLine()) -ne 'ready') {
                if ($null -eq $line) { throw "A target exited before it was ready (exit code $($p.ExitCode))." }
                $w = $line -split ' '
                $regions[$w[1]] = [pscustomobject]@{ Start = [Convert]::ToUInt64($w[2].Substring(2), 16); Length = [long]$w[3] }
            }
            $fleet.Add([pscustomobject]@{ Id = $p.Id; Process = $p; File = $regions['file'] })
        }

        function Get-FleetResident([object] $t) {
            $t.Process.StandardInput.WriteLine('resident file'); $t.Process.StandardInput.Flush()
            [long](($t.Process.StandardOutput.ReadLine() -split ' ')[1])
        }
    }

    AfterAll {
        foreach ($t in $fleet) {
            try { $t.Process.StandardInput.WriteLine('exit'); $t.Process.StandardInput.Flush() } catch { }
            if (-not $t.Process.WaitForExit(5000)) { $t.Process.Kill() }
            $t.Process.Dispose()
        }
    }

    It 'Set-ProcessMadvise from 50 runspaces: one result per process, its own, with the right totals' {
        $calls = Get-AdviceCalls
        $results = @($fleet | ForEach-Object -ThrottleLimit 50 -Parallel {
                Import-Module $using:env:MADVPS_MODULE
                Set-ProcessMadvise -Id $_.Id -Advice PageOut -MappingType File
            })
        $results | Should -HaveCount 50
        ($results.ProcessId | Sort-Object) | Should -Be ($fleet.Id | Sort-Object)
        $results | Where-Object RangesFailed -GT 0 | Should -BeNullOrEmpty
        # The module's one assembly counts the calls of every runspace: they add up.
        (Get-AdviceCalls) - $calls | Should -Be ($results.Calls | Measure-Object -Sum).Sum
        foreach ($t in $fleet) {
            $r = $results | Where-Object ProcessId -EQ $t.Id
            $r.BytesAdvised | Should -BeGreaterOrEqual $t.File.Length
            # Each process's own file pages went: no process was advised in another's place (that
            # would leave its 2 MiB). Pages read in moments before may wait in another CPU's
            # lru_add batch, which PageOut cannot isolate (see LruBatchSlack above).
            Get-FleetResident $t | Should -BeLessOrEqual $LruBatchSlack
        }
    }

    It 'Invoke-MemoryAdvice from 50 runspaces: each range reaches its own process and no other' {
        foreach ($t in $fleet) { $t.Process.StandardInput.WriteLine('touch file'); $t.Process.StandardInput.Flush(); $null = $t.Process.StandardOutput.ReadLine() }
        $calls = Get-AdviceCalls
        $results = @($fleet | ForEach-Object -ThrottleLimit 50 -Parallel {
                Import-Module $using:env:MADVPS_MODULE
                Get-MemoryMapping -Id $_.Id -Address $_.File.Start | Invoke-MemoryAdvice -Advice PageOut -PassThru
            })
        $results | Should -HaveCount 50
        (Get-AdviceCalls) - $calls | Should -Be 50
        foreach ($t in $fleet) {
            $r = @($results | Where-Object ProcessId -EQ $t.Id)
            $r | Should -HaveCount 1
            $r[0].Status | Should -Be 'Advised'
            $r[0].Start | Should -BeLessOrEqual $t.File.Start
            $r[0].End | Should -BeGreaterOrEqual ($t.File.Start + [ulong]$t.File.Length)
            $r[0].BytesAdvised | Should -Be $r[0].Size
            # 'touch file' read back the pages the test before paged out: new page cache folios,
            # some still in another CPU's lru_add batch (seen: 7 pages of one process).
            Get-FleetResident $t | Should -BeLessOrEqual $LruBatchSlack
        }
        ($results.BytesAdvised | Measure-Object -Sum).Sum | Should -Be ($results.Size | Measure-Object -Sum).Sum
    }
}
