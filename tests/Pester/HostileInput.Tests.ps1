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
        $gone = 4194000
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
    It 'Set-ProcessMadvise on a kernel thread is ProcessIsKernelThread' {
        $flags = [uint64]((Get-Content -Raw /proc/2/stat).Split(')')[1].Trim().Split(' ')[6])
        ($flags -band 0x00200000) | Should -Not -Be 0 -Because 'PID 2 is kthreadd, a kernel thread (PF_KTHREAD)'
        Set-ProcessMadvise -Id 2 -Advice Cold -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIsKernelThread,MadvPS.Commands.SetProcessMadviseCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $errs[0].Exception.Message | Should -Not -Match 'exited'
    }

    It 'Invoke-MemoryAdvice on a kernel thread is ProcessIsKernelThread, not ProcessExited' {
        Invoke-MemoryAdvice -Advice Cold -Id 2 -Address 0x400000 -Length 4096 -ErrorVariable errs -ErrorAction SilentlyContinue
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

Describe 'WillNeed on a sparse 100 GiB file' {
    BeforeAll {
        $sparse = "/var/tmp/madvps-sparse-$PID"
        # 100 GiB logical, 64 MiB of data: 32 MiB at 0 and 32 MiB at 50 GiB.
        & truncate -s 100G $sparse
        & dd if=/dev/urandom of=$sparse bs=1M count=32 conv=notrunc status=none
        & dd if=/dev/urandom of=$sparse bs=1M count=32 seek=51200 conv=notrunc status=none
        & sync $sparse
        $allocated = [long](& stat -c '%b' $sparse) * 512
        $firstHole = if (Get-Command python3 -ErrorAction SilentlyContinue) {
            [long](& python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); print(os.lseek(fd, 0, os.SEEK_HOLE))" $sparse)
        }
        $data = 64MB

        function Get-Resident { [long](& fincore --bytes --noheadings --output RES $sparse).Trim() }
        function Get-MemAvailable { [long](((Get-Content /proc/meminfo | Where-Object { $_ -like 'MemAvailable:*' }) -split '\s+')[1]) * 1KB }
        function Wait-Resident([long] $Bytes) {
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ((Get-Resident) -lt $Bytes -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        }
    }
    AfterAll {
        Remove-Variable -Name MadvPSReadLimitPercent -Scope Global -ErrorAction SilentlyContinue
        Remove-Item -Force $sparse -ErrorAction SilentlyContinue
    }
    BeforeEach {
        Remove-Variable -Name MadvPSReadLimitPercent -Scope Global -ErrorAction SilentlyContinue
        Invoke-FileAdvice -Path $sparse -Advice DontNeed -Flush
        Get-Resident | Should -Be 0
    }

    It 'the file system keeps it sparse and answers SEEK_HOLE' {
        if ($null -eq $firstHole) { Set-ItResult -Skipped -Because 'python3 is not here to ask SEEK_HOLE independently' }
        $allocated | Should -BeLessThan 1GB
        $firstHole | Should -Be 32MB
    }

    It 'reads only the data, not the 100 GiB of holes' {
        $availableBefore = Get-MemAvailable
        $r = Invoke-FileAdvice -Path $sparse -Advice WillNeed -PassThru -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        Wait-Resident $data
        $resident = Get-Resident
        $availableAfter = Get-MemAvailable
        $resident | Should -BeLessOrEqual $data -Because 'the holes hold no data and must not be read as zeros'
        # Readahead allocates its pages with __GFP_NORETRY and gives a page up rather than
        # reclaim for it: on a busy host a few pages of the data may stay unread.
        $resident | Should -BeGreaterThan ($data - 1MB)
        $r.Length | Should -Be 100GB
        $r.Note | Should -Match 'holes'
        # Other programs on the host allocate and free too: the bound is the 100 GiB the old
        # behaviour would have filled, not a figure near the 64 MiB of data.
        $availableBefore - $availableAfter | Should -BeLessThan 2GB
    }

    It 'is refused above the memory limit without -Force, and reads nothing' {
        $global:MadvPSReadLimitPercent = 32MB * 100.0 / (Get-MemAvailable)
        Invoke-FileAdvice -Path $sparse -Advice WillNeed -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ReadExceedsMemoryLimit,MadvPS.Commands.InvokeFileAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        Start-Sleep -Milliseconds 500
        Get-Resident | Should -Be 0
    }

    It 'reads above the limit with -Force once confirmed' {
        $global:MadvPSReadLimitPercent = 32MB * 100.0 / (Get-MemAvailable)
        Invoke-FileAdvice -Path $sparse -Advice WillNeed -Force -Confirm:$false -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        Wait-Resident $data
        Get-Resident | Should -BeLessOrEqual $data
        Get-Resident | Should -BeGreaterThan ($data - 1MB) -Because 'readahead gives up only a few pages under pressure (__GFP_NORETRY)'
    }
}

Describe 'Advising a file whose page cache the caller may not see' {
    It 'DontNeed as another user on a readable root-owned file is given, and says it is not measured' {
        $file = "/var/tmp/madvps-hidden-$PID"
        try {
            & dd if=/dev/urandom of=$file bs=1M count=4 status=none
            & sync $file
            & chmod 0644 $file
            $null = [System.IO.File]::ReadAllBytes($file)
            [long](& fincore --bytes --noheadings --output RES $file).Trim() | Should -Be 4MB
            # setfsuid changes the file credentials of this thread only, which runs the pipeline.
            $setfsuid = [MadvPS.FileCache].Assembly.GetType('MadvPS.Interop.Libc').GetMethod('SetFsuid', [Reflection.BindingFlags]'NonPublic, Static')
            $prev = $setfsuid.Invoke($null, @([uint32]65534))
            try {
                $r = Invoke-FileAdvice -Path $file -Advice DontNeed -PassThru -ErrorVariable errs -WarningVariable warns -WarningAction SilentlyContinue
            }
            finally { $null = $setfsuid.Invoke($null, @($prev)) }
            $setfsuid.Invoke($null, @([uint32]::MaxValue)) | Should -Be 0
            $errs | Should -BeNullOrEmpty
            $warns | Should -HaveCount 1
            $warns[0].Message | Should -Match 'not measured'
            $r.Source | Should -Be 'NotVisible'
            [long](& fincore --bytes --noheadings --output RES $file).Trim() | Should -Be 0 -Because 'posix_fadvise takes DontNeed on a read-only descriptor'
        }
        finally { Remove-Item -Force $file -ErrorAction SilentlyContinue }
    }
}

Describe 'Memory brought in on purpose is bounded' {
    BeforeAll {
        $t = Start-TestTarget -FileMiB 64
        $path = (Get-TargetMapping -Target $t -Region 'file' | Select-Object -First 1).Path
        function Get-Cached { [long](& fincore --bytes --noheadings --output RES $path).Trim() }
        function Get-MemAvailable { [long](((Get-Content /proc/meminfo | Where-Object { $_ -like 'MemAvailable:*' }) -split '\s+')[1]) * 1KB }
    }
    AfterAll {
        Remove-Variable -Name MadvPSReadLimitPercent -Scope Global -ErrorAction SilentlyContinue
        $t.Stop()
    }
    BeforeEach {
        Remove-Variable -Name MadvPSReadLimitPercent -Scope Global -ErrorAction SilentlyContinue
        # PageOut drops the pages the target maps; DontNeed the ones WillNeed read in unmapped.
        Get-TargetMapping -Target $t -Region 'file' | Invoke-MemoryAdvice -Advice PageOut
        Invoke-FileAdvice -Path $path -Advice DontNeed
        Get-Cached | Should -BeLessThan 1MB
    }

    It 'Invoke-MemoryAdvice WillNeed above the limit is refused without -Force and reads nothing' {
        $global:MadvPSReadLimitPercent = 32MB * 100.0 / (Get-MemAvailable)
        Get-TargetMapping -Target $t -Region 'file' | Invoke-MemoryAdvice -Advice WillNeed -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ReadExceedsMemoryLimit,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
        Start-Sleep -Milliseconds 500
        Get-Cached | Should -BeLessThan 1MB
    }

    It 'Invoke-MemoryAdvice WillNeed with -Force, confirmed, reads the file back in' {
        $global:MadvPSReadLimitPercent = 32MB * 100.0 / (Get-MemAvailable)
        Get-TargetMapping -Target $t -Region 'file' | Invoke-MemoryAdvice -Advice WillNeed -Force -Confirm:$false -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        # MADV_WILLNEED on a file mapping is one fadvise WILLNEED: the kernel reads at most one
        # readahead window of the device (read_ahead_kb), from the start of the range.
        $device = & stat -c '%Hd:%Ld' $path
        $window = [Math]::Min(64MB, [long](Get-Content "/sys/class/bdi/$device/read_ahead_kb") * 1KB)
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Get-Cached) -lt $window -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        Get-Cached | Should -BeGreaterThan ($window - 1MB) -Because 'readahead gives up only a few pages under pressure (__GFP_NORETRY)'
    }

    It 'Set-ProcessMadvise WillNeed above the limit is refused without -Force' {
        $global:MadvPSReadLimitPercent = 32MB * 100.0 / (Get-MemAvailable)
        $r = Set-ProcessMadvise -Id $t.Id -Advice WillNeed -MappingType File -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ReadExceedsMemoryLimit,MadvPS.Commands.SetProcessMadviseCommand'
        Start-Sleep -Milliseconds 500
        Get-Cached | Should -BeLessThan 1MB
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

Describe 'Mapped file names are exact' {
    BeforeAll {
        $t = Start-TestTarget -AnonMiB 1
        $folder = "/var/tmp/madvps-names-$PID"
        New-Item -ItemType Directory -Path $folder | Out-Null
        $ascii = -join ([char[]](1..127 | Where-Object { $_ -ne 47 }))
        function Map-File([string] $Path) {
            [System.IO.File]::WriteAllBytes($Path, [byte[]]::new(4096))
            $hex = [Convert]::ToHexString([System.Text.Encoding]::UTF8.GetBytes($Path))
            $answer = $t.Send("map-file-hex $hex")
            [Convert]::ToUInt64(($answer -split ' ')[1].Substring(2), 16)
        }
    }
    AfterAll {
        $t.Stop()
        Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'reads back <Label> exactly, not deleted, and Get-FileCache measures it' -ForEach @(
        @{ Label = "a file named 'x (deleted)'"; Leaf = 'x (deleted)' }
        @{ Label = 'a backslash'; Leaf = 'a\b' }
        @{ Label = 'a literal \012'; Leaf = 'a\012b' }
        @{ Label = 'a newline'; Leaf = "nl`nname" }
        @{ Label = 'every ASCII byte from 1 to 127 but /'; Leaf = 'ASCII' }
        @{ Label = 'UTF-8 beyond ASCII'; Leaf = 'é€ 😀' }
    ) {
        $leaf = if ($Leaf -eq 'ASCII') { $ascii } else { $Leaf }
        $path = "$folder/$leaf"
        $start = Map-File $path
        $m = Get-MemoryMapping -Id $t.Id -Address $start -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        $m | Should -HaveCount 1
        $m.Path | Should -BeExactly $path
        $m.IsDeleted | Should -BeFalse
        $c = $m | Get-FileCache -ErrorVariable errs2
        $errs2 | Should -BeNullOrEmpty
        $c.Path | Should -BeExactly $path
        $c.Cached | Should -Be 4096 -Because 'the target read its one page'
        (Get-FileCache -LiteralPath $path).Cached | Should -Be 4096
    }

    It 'a mapped file that was unlinked is IsDeleted with its name' {
        $path = "$folder/gone"
        $start = Map-File $path
        Remove-Item -LiteralPath $path
        $m = Get-MemoryMapping -Id $t.Id -Address $start
        $m.IsDeleted | Should -BeTrue
        $m.Path | Should -BeExactly $path
    }

    It 'a file named ''y (deleted)'' that was unlinked is IsDeleted with that name' {
        $path = "$folder/y (deleted)"
        $start = Map-File $path
        Remove-Item -LiteralPath $path
        $m = Get-MemoryMapping -Id $t.Id -Address $start
        $m.IsDeleted | Should -BeTrue
        $m.Path | Should -BeExactly $path
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
