BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:target = Start-TestTarget -AnonMiB 16 -FileMiB 8 -SharedFileMiB 4 -MemfdMiB 4
}

AfterAll {
    if ($script:target) { $script:target.Stop() }
}

Describe 'Get-MemoryMapping on a live process' {
    It 'loads from out/ and not from anywhere else' {
        (Get-Module MadvPS).ModuleBase | Should -Be (Split-Path $env:MADVPS_MODULE)
    }

    It 'reports each region with the size and residency the kernel reports' {
        $anon = $target.Region('anon')
        $m = Get-MemoryMapping -Id $target.Id -Address $anon.Start
        $m | Should -HaveCount 1
        $m.PSObject.TypeNames[0] | Should -Be 'MadvPS.MemoryMapping'
        $m.Start | Should -BeLessOrEqual $anon.Start
        $m.End | Should -BeGreaterOrEqual $anon.End
        $m.Kind | Should -Be 'Anonymous'
        $m.Permissions | Should -Be 'rw-p'
        # The target filled every byte, so every page is resident, private and dirty.
        $m.Rss | Should -BeGreaterOrEqual $anon.Length
        $m.Anonymous | Should -BeGreaterOrEqual $anon.Length
        $m.PrivateDirty | Should -BeGreaterOrEqual $anon.Length
        $m.VmFlags.HasFlag([MadvPS.VmFlags]::Read) | Should -BeTrue
        $m.VmFlags.HasFlag([MadvPS.VmFlags]::Write) | Should -BeTrue
        $resident = $target.Resident('anon')
        $resident | Should -Be $anon.Length
    }

    It 'agrees with the text of /proc/PID/smaps byte for byte on every size' {
        $text = Get-Content -Raw "/proc/$($target.Id)/smaps"
        $file = $target.Region('file')
        $m = Get-MemoryMapping -Id $target.Id -Address $file.Start
        $header = '{0:x}-{1:x} ' -f $m.Start, $m.End
        $entry = $text.Substring($text.IndexOf($header))
        $entry = $entry.Substring(0, $entry.IndexOf('VmFlags:'))
        foreach ($pair in @{ Rss = 'Rss'; Pss = 'Pss'; Private_Clean = 'PrivateClean'; Size = 'Size'; Referenced = 'Referenced' }.GetEnumerator()) {
            $kb = [long]([regex]::Match($entry, "(?m)^$($pair.Key):\s+(\d+) kB").Groups[1].Value)
            $m.($pair.Value) | Should -Be ($kb * 1024) -Because $pair.Key
        }
    }

    It 'names file-backed, shared and memfd mappings as the kernel does' {
        $file = Get-MemoryMapping -Id $target.Id -Address $target.Region('file').Start
        $file.Kind | Should -Be 'File'
        $file.Path | Should -BeLike '*/madvps-target-*.data'
        $file.Inode | Should -BeGreaterThan 0
        $file.Permissions | Should -Be 'r--p'
        $shared = Get-MemoryMapping -Id $target.Id -Address $target.Region('sharedfile').Start
        $shared.Permissions | Should -Be 'rw-s'
        $shared.VmFlags.HasFlag([MadvPS.VmFlags]::Shared) | Should -BeTrue
        $memfd = Get-MemoryMapping -Id $target.Id -Address $target.Region('memfd').Start
        $memfd.Kind | Should -Be 'Memfd'
        $memfd.Path | Should -Be '/memfd:madvps-target'
        $memfd.IsDeleted | Should -BeTrue
    }

    It 'lists every mapping of /proc/PID/maps, in order' {
        # The .NET target maps and unmaps on its own threads (GC, JIT): stopped, its address space
        # holds still between the test's read of maps and the module's read of smaps.
        & kill -STOP $target.Id
        try {
            $maps = Get-Content "/proc/$($target.Id)/maps"
            $all = @(Get-MemoryMapping -Id $target.Id)
        }
        finally { & kill -CONT $target.Id }
        $all.Count | Should -Be $maps.Count
        $all.Start | Should -Be @($maps | ForEach-Object { [Convert]::ToUInt64(($_ -split '-')[0], 16) })
        ($all | Where-Object Kind -EQ 'Heap' | Measure-Object).Count | Should -BeLessOrEqual 1
        ($all | Where-Object Kind -EQ 'Stack') | Should -Not -BeNullOrEmpty
        ($all | Where-Object Kind -EQ 'Vdso') | Should -Not -BeNullOrEmpty
    }

    It 'filters by -Path wildcard, -Kind and -Address' {
        $byPath = @(Get-MemoryMapping -Id $target.Id -Path '*madvps-target-*.data')
        $byPath.Count | Should -BeGreaterOrEqual 1
        $byPath.Path | Should -BeLike '*madvps-target-*.data'
        $memfd = @(Get-MemoryMapping -Id $target.Id -Kind Memfd)
        $memfd.Kind | Sort-Object -Unique | Should -Be 'Memfd'
        @(Get-MemoryMapping -Id $target.Id -Address 1).Count | Should -Be 0
    }

    It 'filters naturally with Where-Object Rss -gt 1MB' {
        $big = @(Get-MemoryMapping -Id $target.Id | Where-Object Rss -GT 1MB)
        $big.Start | Should -Contain (Get-MemoryMapping -Id $target.Id -Address $target.Region('anon').Start).Start
    }

    It 'takes Get-Process objects and ProcessId properties from the pipeline' {
        # The target's own memfd: the .NET runtime's JIT maps and unmaps memfds of its own meanwhile.
        $fromProcess = @(Get-Process -Id $target.Id | Get-MemoryMapping -Kind Memfd -Path '/memfd:madvps-target*')
        $fromProcess.Count | Should -Be 1
        $fromProperty = @([pscustomobject]@{ ProcessId = $target.Id } | Get-MemoryMapping -Kind Memfd -Path '/memfd:madvps-target*')
        $fromProperty.Start | Should -Be $fromProcess.Start
    }

    It 'finds processes by -Name with wildcards' {
        $name = (Get-Process -Id $target.Id).ProcessName
        # Other dotnet processes on the host may exit between the name match and the read:
        # their ProcessNotFound errors are not this test's (Run-Pester makes errors terminating).
        $m = @(Get-MemoryMapping -Name $name -Kind Memfd -ErrorAction SilentlyContinue | Where-Object ProcessId -EQ $target.Id)
        $m.Count | Should -BeGreaterOrEqual 1
        $m[0].ProcessName | Should -Be $name
    }

    It 'carries the identity that later cmdlets check' {
        $m = Get-MemoryMapping -Id $target.Id -Kind Memfd | Select-Object -First 1
        $stat = (Get-Content -Raw "/proc/$($target.Id)/stat")
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2) -split ' '
        $m.ProcessStartTime | Should -Be ([ulong]$fields[19])
        $m.BootId | Should -Be (Get-Content /proc/sys/kernel/random/boot_id)
    }

    It 'gives one rollup per process from smaps_rollup with -Rollup' {
        $r = Get-MemoryMapping -Id $target.Id -Rollup
        $r.PSObject.TypeNames[0] | Should -Be 'MadvPS.ProcessMemory'
        $rollup = Get-Content -Raw "/proc/$($target.Id)/smaps_rollup"
        $kb = [long]([regex]::Match($rollup, '(?m)^Pss_Anon:\s+(\d+) kB').Groups[1].Value)
        $r.PssAnon | Should -Be ($kb * 1024)
        $r.Rss | Should -BeGreaterThan 32MB
        @(Get-Process -Id $target.Id, $PID | Get-MemoryMapping -Rollup | Sort-Object Pss -Descending).Count | Should -Be 2
    }
}

Describe 'Get-MemoryMapping and bad input' {
    It 'writes ObjectNotFound for an unknown PID and goes on with the next' {
        $missing = Get-FreeProcessId
        $out = Get-MemoryMapping -Id $missing, $target.Id -Kind Memfd -ErrorVariable errs -ErrorAction SilentlyContinue
        @($out).Count | Should -BeGreaterOrEqual 1
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessNotFound,MadvPS.Commands.GetMemoryMappingCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be $missing
        $errs[0].Exception.Message | Should -Match "$missing"
    }

    It 'gives nothing and no error for a kernel thread' {
        $kthread = Get-KernelThreadId
        if (-not $kthread) { Set-ItResult -Skipped -Because 'no kernel thread is visible in this PID namespace'; return }
        $out = Get-MemoryMapping -Id $kthread -ErrorVariable errs
        $out | Should -BeNullOrEmpty
        $errs | Should -BeNullOrEmpty
    }

    It 'gives no rollup and no error for a kernel thread' {
        $kthread = Get-KernelThreadId
        if (-not $kthread) { Set-ItResult -Skipped -Because 'no kernel thread is visible in this PID namespace'; return }
        $out = Get-MemoryMapping -Id $kthread -Rollup -ErrorVariable errs
        $out | Should -BeNullOrEmpty
        $errs | Should -BeNullOrEmpty
    }

    It 'says which name matched no process' {
        Get-MemoryMapping -Name 'no-such-process-madvps' -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessNameNotFound,MadvPS.Commands.GetMemoryMappingCommand'
        $errs[0].TargetObject | Should -Be 'no-such-process-madvps'
    }

    It 'refuses -Rollup with a mapping filter' {
        { Get-MemoryMapping -Id $PID -Rollup -Kind Heap } | Should -Throw -ErrorId 'RollupWithMappingFilter,MadvPS.Commands.GetMemoryMappingCommand'
    }

    It 'reports a process that has exited as not found' {
        $short = Start-TestTarget -AnonMiB 1
        $id = $short.Id
        $short.Stop()
        Get-MemoryMapping -Id $id -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}
