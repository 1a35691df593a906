# Invoke-MemoryAdvice, Set-ProcessMadvise and Get-MemoryAdviceSupport on the project's target
# program: each test measures what the kernel did (RSS, Swap, Referenced, AnonHugePages, page
# cache residency) and that the target's data is unchanged.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    function Get-RegionMapping($Target, [string] $Region) {
        Get-MemoryMapping -Id $Target.Id -Address $Target.Region($Region).Start
    }

    # The interop counts its process_madvise calls: a test reads the count to prove that -WhatIf,
    # a No to -Confirm or a refusal sent nothing.
    $script:adviceCounter = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc').GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')
    function Get-AdviceCalls { [long]$script:adviceCounter.GetValue($null) }

    # PageOut isolates pages from the LRU lists; pages faulted in on another CPU moments before can
    # still sit in that CPU's lru_add folio batch (up to 31 folios, mm/swap.c), which the caller's
    # lru_add_drain() does not reach, so up to that many may stay resident.
    $script:LruBatchSlack = 31 * 4KB

    # The host's swap as this file found it: the last test checks it is the same at the end.
    $script:swapsAtStart = Get-TestSwapList
    $script:kernel = Get-KernelVersion
    # The target's files: PageOut of file pages needs a disk under them, not tmpfs.
    $script:diskProblem = Get-DiskFolderProblem $(if ($env:MADVPS_TARGET_DIR) { $env:MADVPS_TARGET_DIR } else { '/var/tmp' })
}

Describe 'PageOut of file-backed memory, without swap' {
    BeforeAll {
        $t = Start-TestTarget -FileMiB 16 -SharedFileMiB 8 -AnonMiB 4
    }
    AfterAll { $t.Stop() }

    It 'drops the RSS of the mappings piped in to near zero and keeps the data' {
        if ($diskProblem) { Set-ItResult -Skipped -Because $diskProblem; return }
        $checksum = $t.Checksum('')
        $before = Get-RegionMapping $t 'file'
        $before.Rss | Should -BeGreaterOrEqual 16MB

        $results = Get-RegionMapping $t 'file' | Invoke-MemoryAdvice -Advice PageOut -PassThru

        $results | Should -HaveCount 1
        $results.Status | Should -Be 'Advised'
        $results.BytesAdvised | Should -Be $before.Size
        $after = Get-RegionMapping $t 'file'
        $after.Rss | Should -BeLessThan 1MB
        $t.Resident('file') | Should -BeLessThan 1MB
        $t.Checksum('') | Should -Be $checksum
    }

    It 'writes back and drops dirty shared file pages' {
        if ($diskProblem) { Set-ItResult -Skipped -Because $diskProblem; return }
        $checksum = $t.Checksum('sharedfile')
        Get-RegionMapping $t 'sharedfile' | Invoke-MemoryAdvice -Advice PageOut
        (Get-RegionMapping $t 'sharedfile').Rss | Should -BeLessThan 1MB
        $t.Checksum('sharedfile') | Should -Be $checksum
    }

    It 'writes nothing on success without -PassThru' {
        $out = Get-RegionMapping $t 'file' | Invoke-MemoryAdvice -Advice Cold
        $out | Should -BeNullOrEmpty
    }
}

Describe 'Cold, WillNeed and Collapse' {
    BeforeAll {
        $t = Start-TestTarget -FileMiB 8 -AnonMiB 8 -HugeMiB 8
    }
    AfterAll { $t.Stop() }

    It 'Cold clears the referenced state of the pages it deactivates' {
        $t.Send('touch anon') | Out-Null
        (Get-RegionMapping $t 'anon').Referenced | Should -BeGreaterOrEqual 8MB
        Get-RegionMapping $t 'anon' | Invoke-MemoryAdvice -Advice Cold
        $after = Get-RegionMapping $t 'anon'
        $after.Referenced | Should -BeLessThan 1MB
        $after.Rss | Should -BeGreaterOrEqual 8MB -Because 'Cold deactivates; it does not reclaim'
    }

    It 'WillNeed reads file pages that were paged out back into the page cache' {
        Get-RegionMapping $t 'file' | Invoke-MemoryAdvice -Advice PageOut
        $t.Resident('file') | Should -BeLessThan 1MB
        $r = Get-RegionMapping $t 'file' | Invoke-MemoryAdvice -Advice WillNeed -PassThru
        $r.Status | Should -Be 'Advised'
        # Read-ahead is asynchronous: give it a moment.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ($t.Resident('file') -lt 8MB -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $t.Resident('file') | Should -Be 8MB
    }

    It 'Collapse turns an aligned region into transparent huge pages and keeps the data' {
        if ($kernel -lt [version]'6.1') { Set-ItResult -Skipped -Because "MADV_COLLAPSE for another process needs Linux 6.1; this is $kernel"; return }
        $huge = $t.Region('huge')
        $checksum = $t.Checksum('huge')
        $thp = Get-Content /sys/kernel/mm/transparent_hugepage/enabled
        # With THP [always] the first write may already have given the region huge pages; in the
        # other modes it has none until Collapse.
        if ($thp -notmatch '\[always\]') { (Get-RegionMapping $t 'huge').AnonHugePages | Should -Be 0 -Because "THP is '$thp' and the region was not advised HugePage" }
        $r = Invoke-MemoryAdvice -Id $t.Id -Address $huge.Start -Length $huge.Length -Advice Collapse -PassThru
        $r.Status | Should -Be 'Advised'
        $r.BytesAdvised | Should -Be $huge.Length
        (Get-RegionMapping $t 'huge').AnonHugePages | Should -Be $huge.Length
        $t.Checksum('huge') | Should -Be $checksum
    }

    It 'skips a range with no aligned 2 MiB block for Collapse instead of sending it' {
        $anon = $t.Region('anon')
        $r = Invoke-MemoryAdvice -Id $t.Id -Address $anon.Start -Length 1MB -Advice Collapse -PassThru -Verbose 4>&1
        $verbose = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $result = $r | Where-Object { $_ -is [MadvPS.AdviceResult] }
        $result.Status | Should -Be 'Skipped'
        $result.Reason | Should -Match '2 MiB'
        $verbose | Where-Object Message -Match 'process_madvise' | Should -BeNullOrEmpty
    }
}

Describe 'PageOut of anonymous memory, with swap' {
    BeforeAll {
        $t = $null
        $swap = Enable-TestSwap -MiB 256
        # A target that fails to start must not leave the swap file on.
        try { if ($swap) { $t = Start-TestTarget -AnonMiB 32 -LockedMiB 4 } }
        catch { Disable-TestSwap $swap; $swap = $null; throw }
    }
    AfterAll {
        try { if ($t) { $t.Stop() } }
        finally { Disable-TestSwap $swap }
    }

    It 'moves the anonymous pages to swap and the data reads back unchanged' {
        if (-not $swap) { Set-ItResult -Skipped -Because 'a swap file could not be set up (needs root and a file system that takes swap files)' }
        $checksum = $t.Checksum('anon')
        $before = Get-RegionMapping $t 'anon'
        $before.Swap | Should -Be 0
        Get-RegionMapping $t 'anon' | Invoke-MemoryAdvice -Advice PageOut
        $after = Get-RegionMapping $t 'anon'
        $after.Swap | Should -BeGreaterOrEqual 30MB
        $after.Rss | Should -BeLessThan 2MB
        $t.Checksum('anon') | Should -Be $checksum
    }

    It 'skips a locked mapping between two others and still pages out the others' {
        if (-not $swap) { Set-ItResult -Skipped -Because 'a swap file could not be set up (needs root and a file system that takes swap files)' }
        $mappings = 'lockedbefore', 'locked', 'lockedafter' | ForEach-Object { Get-RegionMapping $t $_ }
        $mappings[1].VmFlags.HasFlag([MadvPS.VmFlags]::Locked) | Should -BeTrue
        $results = $mappings | Invoke-MemoryAdvice -Advice PageOut -PassThru
        $results.Status | Should -Be 'Advised', 'Skipped', 'Advised'
        $results[1].Reason | Should -Match 'locked'
        (Get-RegionMapping $t 'lockedbefore').Swap | Should -BeGreaterOrEqual 4MB
        (Get-RegionMapping $t 'lockedafter').Swap | Should -BeGreaterOrEqual 4MB
        (Get-RegionMapping $t 'locked').Rss | Should -Be 4MB
        (Get-RegionMapping $t 'locked').Swap | Should -Be 0
    }

    It 'Set-ProcessMadvise -MappingType Anonymous moves a whole process to swap and reports it' {
        if (-not $swap) { Set-ItResult -Skipped -Because 'a swap file could not be set up (needs root and a file system that takes swap files)' }
        $t.Send('touch anon') | Out-Null
        $r = Set-ProcessMadvise -Id $t.Id -Advice PageOut -MappingType Anonymous
        $r.PSObject.TypeNames[0] | Should -Be 'MadvPS.ProcessAdviceResult'
        $r.RangesSkipped | Should -BeGreaterOrEqual 1 -Because 'the locked mapping is skipped'
        # The 32 MiB read back in by the touch go to swap again, and leave RSS.
        $r.SwapAfter - $r.SwapBefore | Should -BeGreaterOrEqual (32MB - $LruBatchSlack)
        $r.RssBefore - $r.RssAfter | Should -BeGreaterOrEqual (32MB - $LruBatchSlack)
        $t.Resident('anon') | Should -BeLessOrEqual $LruBatchSlack
        (Get-RegionMapping $t 'locked').Rss | Should -Be 4MB -Because 'the locked mapping was skipped'
        $r.RssReclaimed | Should -Be ($r.RssBefore - $r.RssAfter)
        $rollup = Get-MemoryMapping -Id $t.Id -Rollup
        [math]::Abs($rollup.Swap - $r.SwapAfter) | Should -BeLessThan 1MB
    }
}

Describe 'Ranges the kernel refuses' {
    BeforeAll {
        $t = Start-TestTarget -FileMiB 4 -SharedFileMiB 4 -MemfdMiB 4 -ReserveMiB 3072
    }
    AfterAll { $t.Stop() }

    It 'reports an unmapped range in the middle of a batch alone, unsent, and advises the others' {
        $three = 'file', 'sharedfile', 'memfd' | ForEach-Object { Get-RegionMapping $t $_ }
        $memfdChecksum = $t.Checksum('memfd')
        $t.Send('unmap sharedfile') | Should -Be 'unmapped'
        $results = $three | Invoke-MemoryAdvice -Advice PageOut -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $results.Status | Should -Be 'Advised', 'Changed', 'Advised'
        $results[1].BytesAdvised | Should -Be 0
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'RangeChanged,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].TargetObject.Start | Should -Be $three[1].Start
        $errs[0].Exception.Message | Should -Match 'not mapped'
        (Get-RegionMapping $t 'file').Rss | Should -BeLessThan 1MB
        # Shmem (the memfd) can only go to swap: without swap it stays; with the host's swap on,
        # the kernel may move it, so only its data is checked then.
        if (@(Get-TestSwapList).Count -eq 0) { $t.Resident('memfd') | Should -Be 4MB -Because 'PageOut of shmem without swap keeps it' }
        $t.Checksum('memfd') | Should -Be $memfdChecksum
    }

    It 'advises a range larger than the 2 GiB a call can take, whole' {
        $reserve = $t.Region('reserve')
        $reserve.Length | Should -Be 3GB
        $r = Invoke-MemoryAdvice -Id $t.Id -Address $reserve.Start -Length $reserve.Length -Advice Cold -PassThru -Verbose 4>&1
        $result = $r | Where-Object { $_ -is [MadvPS.AdviceResult] }
        $calls = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^process_madvise' })
        $result.Status | Should -Be 'Advised'
        $result.BytesAdvised | Should -Be 3GB
        $calls | Should -HaveCount 2 -Because 'the kernel caps a call at MAX_RW_COUNT (2 GiB - 4 KiB), so the range goes in two'
    }
}

Describe 'Refusals before any call' {
    BeforeAll {
        $t = Start-TestTarget -AnonMiB 8
    }
    AfterAll { $t.Stop() }

    It 'refuses <_> for another process and changes nothing' -ForEach @('DontNeed', 'Free', 'Remove', 'WipeOnFork', 'PopulateWrite') {
        $advice = $_
        $checksum = $t.Checksum('anon')
        $m = Get-RegionMapping $t 'anon'
        $out = $m | Invoke-MemoryAdvice -Advice $advice -Force -Confirm:$false -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'AdviceNotAllowedForOtherProcess,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $errs[0].Exception.Message | Should -Match 'PageOut'
        (Get-RegionMapping $t 'anon').Rss | Should -Be $m.Rss
        $t.Checksum('anon') | Should -Be $checksum
    }

    It 'refuses a mapping whose process was replaced (another start time) and advises nothing' {
        $m = Get-RegionMapping $t 'anon'
        $m.ProcessStartTime = $m.ProcessStartTime - 1
        $out = $m | Invoke-MemoryAdvice -Advice Cold -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match 'no longer the process'
        (Get-RegionMapping $t 'anon').Referenced | Should -BeGreaterOrEqual 8MB -Because 'Cold would have cleared it'
    }

    It 'refuses a mapping read in another boot or on another host' {
        $m = Get-RegionMapping $t 'anon'
        $m.BootId = [guid]::NewGuid().ToString()
        $m | Invoke-MemoryAdvice -Advice Cold -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].Exception.Message | Should -Match $m.BootId
    }

    It 'refuses a process that no longer exists and goes on with the next' {
        $gone = Start-TestTarget -AnonMiB 1
        $stale = Get-MemoryMapping -Id $gone.Id -Kind Anonymous | Select-Object -First 1
        $gone.Stop()
        $live = Get-RegionMapping $t 'anon'
        $results = @($stale, $live) | Invoke-MemoryAdvice -Advice Cold -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $results | Should -HaveCount 1
        $results.ProcessId | Should -Be $t.Id
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It '-WhatIf says what would be done and makes no call' {
        $m = Get-RegionMapping $t 'anon'
        $t.Send('touch anon') | Out-Null
        $out = $m | Invoke-MemoryAdvice -Advice Cold -WhatIf -PassThru -Verbose 4>&1
        ($out | Where-Object { $_ -is [MadvPS.AdviceResult] }) | Should -BeNullOrEmpty
        ($out | Where-Object { $_.Message -match '^process_madvise' }) | Should -BeNullOrEmpty
        (Get-RegionMapping $t 'anon').Referenced | Should -BeGreaterOrEqual 8MB
    }
}

Describe 'Advice to the calling process itself' {
    BeforeAll {
        # A private anonymous block of this pwsh (glibc serves a 1 MiB malloc with mmap).
        $script:block = [System.Runtime.InteropServices.Marshal]::AllocHGlobal(1MB)
        $script:start = ([long]$block + 4095) -band (-bnot 4095L)
        $script:length = 256KB
        function Set-Block([byte] $value) {
            for ($offset = 0; $offset -lt $length; $offset += 4096) { [System.Runtime.InteropServices.Marshal]::WriteByte([IntPtr]($start + $offset), $value) }
        }
        function Get-BlockSum {
            $sum = 0
            for ($offset = 0; $offset -lt $length; $offset += 4096) { $sum += [System.Runtime.InteropServices.Marshal]::ReadByte([IntPtr]($start + $offset)) }
            $sum
        }
    }
    AfterAll { [System.Runtime.InteropServices.Marshal]::FreeHGlobal($block) }

    It 'refuses advice that destroys data without -Force, and keeps the data' {
        Set-Block 7
        Invoke-MemoryAdvice -Id $PID -Address $start -Length $length -Advice DontNeed -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'DestructiveAdviceNeedsForce,MadvPS.Commands.InvokeMemoryAdviceCommand'
        Get-BlockSum | Should -Be (7 * 64)
    }

    It 'gives DontNeed with -Force and confirmation: the pages read back as zeros' {
        if ($kernel -lt [version]'6.13') { Set-ItResult -Skipped -Because "process_madvise takes any advice for the caller itself only since Linux 6.13; this is $kernel"; return }
        Set-Block 7
        $r = Invoke-MemoryAdvice -Id $PID -Address $start -Length $length -Advice DontNeed -Force -Confirm:$false -PassThru
        $r.Status | Should -Be 'Advised'
        $r.BytesAdvised | Should -Be $length
        Get-BlockSum | Should -Be 0
    }

    It 'refuses a stale object piped to DontNeed -Force on itself when its mapping changed, and the data survives; a fresh read is advised' {
        if ($kernel -lt [version]'6.13') { Set-ItResult -Skipped -Because "process_madvise takes any advice for the caller itself only since Linux 6.13; this is $kernel"; return }
        if (-not ('MadvPS.Tests.SelfMap' -as [type])) {
            Add-Type -Namespace MadvPS.Tests -Name SelfMap -MemberDefinition @'
[System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern System.IntPtr mmap(System.IntPtr addr, System.UIntPtr length, int prot, int flags, int fd, System.IntPtr offset);
[System.Runtime.InteropServices.DllImport("libc")] public static extern int munmap(System.IntPtr addr, System.UIntPtr length);
'@
        }
        $map = [MadvPS.Tests.SelfMap]
        # A reservation with no access around the block, so that the block's VMA merges with nothing.
        $reserve = $map::mmap([IntPtr]::Zero, [UIntPtr][ulong]4MB, 0, 0x22, -1, [IntPtr]::Zero)   # PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS
        $reserve | Should -Not -Be ([IntPtr]-1)
        try {
            $at = [IntPtr]([long]$reserve + 1MB)
            $fixed = 0x32   # MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED
            $map::mmap($at, [UIntPtr][ulong]256KB, 3, $fixed, -1, [IntPtr]::Zero) | Should -Be $at
            $stale = Get-MemoryMapping -Id $PID -Address ([ulong][long]$at)
            $stale.Start | Should -Be ([ulong][long]$at)
            $stale.Size | Should -Be 256KB

            # The block is mapped again, twice as large, at the same place, with the same
            # permissions; the program writes new data into it.
            $map::mmap($at, [UIntPtr][ulong]512KB, 3, $fixed, -1, [IntPtr]::Zero) | Should -Be $at
            for ($o = 0; $o -lt 512KB; $o += 4096) { [System.Runtime.InteropServices.Marshal]::WriteByte([IntPtr]([long]$at + $o), 9) }
            $sum = { $t = 0; for ($o = 0; $o -lt 256KB; $o += 4096) { $t += [System.Runtime.InteropServices.Marshal]::ReadByte([IntPtr]([long]$at + $o)) }; $t }

            $calls = Get-AdviceCalls
            $r = $stale | Invoke-MemoryAdvice -Advice DontNeed -Force -Confirm:$false -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
            $r.Status | Should -Be 'Changed'
            $r.BytesAdvised | Should -Be 0
            (Get-AdviceCalls) - $calls | Should -Be 0 -Because 'no call may carry the stale range'
            $errs[0].FullyQualifiedErrorId | Should -Be 'RangeChanged,MadvPS.Commands.InvokeMemoryAdviceCommand'
            $errs[0].Exception.Message | Should -Match ('part of the mapping {0:x}-{1:x}, was the mapping {0:x}-{2:x}' -f [long]$at, ([long]$at + 512KB), ([long]$at + 256KB))
            & $sum | Should -Be (9 * 64) -Because 'the new data survives'

            # The control: the same advice on a fresh read of the same place destroys the data.
            $fresh = Get-MemoryMapping -Id $PID -Address ([ulong][long]$at)
            $done = $fresh | Invoke-MemoryAdvice -Advice DontNeed -Force -Confirm:$false -PassThru
            $done.Status | Should -Be 'Advised'
            $done.BytesAdvised | Should -Be 512KB
            & $sum | Should -Be 0
        }
        finally { $null = $map::munmap($reserve, [UIntPtr][ulong]4MB) }
    }

    It 'gives non-destructive advice to itself without -Force' {
        $r = Invoke-MemoryAdvice -Id $PID -Address $start -Length $length -Advice Cold -PassThru
        $r.Status | Should -Be 'Advised'
    }
}

Describe 'Set-ProcessMadvise' {
    BeforeAll {
        $t = Start-TestTarget -FileMiB 16 -AnonMiB 4 -Mappings 2000
    }
    AfterAll { $t.Stop() }

    It 'pages out the file-backed part of a process and reports RSS before and after' {
        if ($diskProblem) { Set-ItResult -Skipped -Because $diskProblem; return }
        $t.Send('touch file') | Out-Null
        $r = Set-ProcessMadvise -Id $t.Id -Advice PageOut -MappingType File
        $r.ProcessId | Should -Be $t.Id
        $r.Advice | Should -Be 'PageOut'
        $r.RangesRequested | Should -BeGreaterThan 5
        $r.BytesAdvised | Should -BeGreaterThan 16MB
        $r.RssBefore - $r.RssAfter | Should -BeGreaterOrEqual 15MB
        $r.Calls | Should -Be 1
        (Get-RegionMapping $t 'file').Rss | Should -BeLessThan 1MB
        # The region's own pages (mincore in the target): the runtime may map anonymous memory
        # next to it, which the kernel merges into the same VMA, so the VMA's Rss can be larger.
        $t.Resident('anon') | Should -Be 4MB -Because 'the anonymous part was not selected'
    }

    It 'sends thousands of ranges in ceil(n/1024) calls' {
        $r = Set-ProcessMadvise -Id $t.Id -Advice Cold -MappingType Anonymous
        $r.RangesRequested | Should -BeGreaterThan 2000
        $r.RangesFailed | Should -Be 0
        $r.RangesSkipped | Should -Be 0
        # At most 1024 iovecs and MAX_RW_COUNT (2 GiB - 4 KiB) bytes a call: the runtime's large
        # reservations can make the bytes, not the count, decide the fewest calls.
        $fewest = [math]::Max([math]::Ceiling($r.RangesRequested / 1024), [math]::Ceiling($r.BytesRequested / 0x7ffff000))
        $r.Calls | Should -Be $fewest
    }

    It 'takes processes from Get-Process and by -Name' {
        $byProcess = Get-Process -Id $t.Id | Set-ProcessMadvise -Advice Cold -MappingType File
        $byProcess.ProcessId | Should -Be $t.Id
        # A target of a name no other process has, so that -Name reaches only it.
        $name = "madvps-$(Get-Random -Minimum 10000 -Maximum 99999)"
        $named = Start-TestTarget -FileMiB 8 -ProcessName $name
        try {
            (Get-Process -Id $named.Id).ProcessName | Should -Be $name
            $named.Send('touch file') | Out-Null
            (Get-RegionMapping $named 'file').Referenced | Should -BeGreaterOrEqual 8MB
            $t.Send('touch file') | Out-Null
            $byName = @(Set-ProcessMadvise -Name $name -Advice Cold -MappingType File)
            $byName.ProcessId | Should -Be @($named.Id)
            (Get-RegionMapping $named 'file').Referenced | Should -BeLessThan 1MB
            (Get-RegionMapping $t 'file').Referenced | Should -BeGreaterOrEqual 16MB -Because 'another process was not named'
        }
        finally { $named.Stop() }
    }

    It 'accepts only the advice the kernel allows for another process' {
        { Set-ProcessMadvise -Id $t.Id -Advice DontNeed } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MadvPS.Commands.SetProcessMadviseCommand'
    }

    It '-Freeze holds the process stopped while advising and resumes it after success' {
        $r = Set-ProcessMadvise -Id $t.Id -Advice Cold -Freeze
        $r.Frozen | Should -BeTrue
        Get-ProcessState $t.Id | Should -Not -Be 'T'
        $t.Send('touch anon') | Should -Be 'touched'
    }

    It '-Freeze resumes the process when ranges fail' {
        if ($kernel -lt [version]'6.1') { Set-ItResult -Skipped -Because "MADV_COLLAPSE for another process needs Linux 6.1; this is $kernel"; return }
        $r = Set-ProcessMadvise -Id $t.Id -Advice Collapse -Freeze -MappingType All -ErrorAction SilentlyContinue
        $r.RangesFailed + $r.RangesSkipped | Should -BeGreaterThan 0
        Get-ProcessState $t.Id | Should -Not -Be 'T'
    }

    It '-Freeze resumes the process after -WhatIf' {
        Set-ProcessMadvise -Id $t.Id -Advice Cold -Freeze -WhatIf
        Get-ProcessState $t.Id | Should -Not -Be 'T'
    }

    It '-Freeze leaves a process that was already stopped stopped' {
        kill -STOP $t.Id
        try {
            Start-Sleep -Milliseconds 50
            $r = Set-ProcessMadvise -Id $t.Id -Advice Cold -Freeze
            $r.Frozen | Should -BeFalse
            Get-ProcessState $t.Id | Should -Be 'T'
        }
        finally { kill -CONT $t.Id }
    }

    It '-Freeze resumes the process when the pipeline is stopped' {
        $big = Start-TestTarget -Mappings 40000
        try {
            foreach ($i in 1..3) {
                $ps = [powershell]::Create()
                $null = $ps.AddScript("Import-Module '$env:MADVPS_MODULE'; Set-ProcessMadvise -Id $($big.Id) -Advice Cold -Freeze")
                $async = $ps.BeginInvoke()
                # Stopped only once the freeze has begun, so that the stop lands inside it.
                Wait-ProcessState -Id $big.Id -State 'T' -Until { $async.IsCompleted } | Should -Be 'T' -Because 'the target is frozen before the run ends'
                $ps.Stop()
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                Get-ProcessState $big.Id | Should -Not -Be 'T' -Because "the pipeline was stopped while the target was frozen (run $i)"
                $ps.Dispose()
            }
        }
        finally { $big.Stop() }
    }

    It 'writes ObjectNotFound for a process that does not exist and goes on' {
        $r = Set-ProcessMadvise -Id (Get-FreeProcessId), $t.Id -Advice Cold -MappingType File -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessNotFound,MadvPS.Commands.SetProcessMadviseCommand'
    }
}

Describe 'Get-MemoryAdviceSupport' {
    It 'lists every advice with its Linux number' {
        $all = Get-MemoryAdviceSupport
        $all.Count | Should -Be ([enum]::GetValues([MadvPS.MemoryAdvice]).Count)
        ($all | Where-Object Advice -EQ 'PageOut').Value | Should -Be 21
        ($all | Where-Object Advice -EQ 'Collapse').Value | Should -Be 25
        ($all | Where-Object Advice -EQ 'GuardInstall').Value | Should -Be 102
    }

    It 'asks the running kernel which advice it knows' {
        $cold = Get-MemoryAdviceSupport -Advice Cold
        $cold.KnownByKernel | Should -BeTrue
        $cold.AllowedForOtherProcess | Should -BeTrue
        $cold.DestroysData | Should -BeFalse
        $dontNeed = Get-MemoryAdviceSupport -Advice DontNeed
        $dontNeed.AllowedForOtherProcess | Should -BeFalse
        $dontNeed.DestroysData | Should -BeTrue
        $hwPoison = Get-MemoryAdviceSupport -Advice HwPoison
        $memoryFailure = Test-Path /sys/devices/system/memory/soft_offline_page
        $hwPoison.KnownByKernel | Should -Be $memoryFailure -Because 'HwPoison needs CONFIG_MEMORY_FAILURE'
    }

    It 'describes the host with -Environment' {
        $e = Get-MemoryAdviceSupport -Environment
        $meminfo = Get-Content /proc/meminfo | Where-Object { $_ -match '^SwapTotal:' }
        $e.SwapTotal | Should -Be ([long](($meminfo -split '\s+')[1]) * 1024)
        $e.KernelRelease | Should -Be (Get-Content /proc/sys/kernel/osrelease)
        $e.ProcessMadviseAvailable | Should -BeTrue
        $e.TransparentHugePages | Should -BeIn 'always', 'madvise', 'never'
        $e.HasCapSysNice | Should -Be (Test-CapSysNice) -Because 'CapEff in /proc/self/status says whether this process has CAP_SYS_NICE (bit 23)' 
    }
}

Describe 'The host after the advice tests' {
    It 'has the swap areas it had before them: the test swap file is off and gone' {
        Get-TestSwapList | Should -Be $swapsAtStart
        Get-ChildItem /var/tmp -Filter "madvps-test-swap-$PID" | Should -BeNullOrEmpty
    }
}
