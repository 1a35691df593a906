# Get-FileCache and Invoke-FileAdvice against the real page cache: files under /var/tmp (a disk;
# /tmp may be tmpfs, where fadvise does nothing), written and read by the tests.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    $script:folder = Join-Path '/var/tmp' "madvps-pester-filecache-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory -Path $folder | Out-Null
    $script:page = [Environment]::SystemPageSize
    $script:hasFincore = [bool](Get-Command fincore -CommandType Application -ErrorAction Ignore)

    # Writes in place (no truncation: ext4 starts writeback when a file truncated to zero is closed,
    # which would leave nothing dirty) and, with -Sync, waits until the data is on disk.
    function script:Write-TestFile([string] $Name, [int] $MiB, [switch] $Sync) {
        $path = Join-Path $folder $Name
        $buffer = [byte[]]::new(1MB)
        [Random]::new($MiB).NextBytes($buffer)
        $stream = [IO.FileStream]::new($path, 'OpenOrCreate', 'Write', 'ReadWrite')
        try {
            for ($i = 0; $i -lt $MiB; $i++) { $stream.Write($buffer, 0, $buffer.Length) }
            $stream.Flush([bool]$Sync)
        }
        finally { $stream.Dispose() }
        $path
    }

    function script:Read-TestFile([string] $Path) {
        $buffer = [byte[]]::new(1MB)
        $stream = [IO.File]::OpenRead($Path)
        try { while ($stream.Read($buffer, 0, $buffer.Length) -gt 0) { } } finally { $stream.Dispose() }
    }

    # fincore (util-linux) in bytes: what mincore says is resident.
    function script:Get-Fincore([string] $Path) {
        [long](fincore --bytes --noheadings --raw --output RES -- $Path)
    }

    # mincore (fincore) counts a page only once it is up to date; cachestat counts it as soon as it
    # is in the page cache, which readahead does before its reads complete. Readahead (WillNeed, or
    # the kernel's own after a read) finishes after the call returns: wait for fincore to reach the
    # expected figure, with a deadline, and return what it last saw.
    function script:Wait-Fincore([string] $Path, [long] $Expected, [int] $TimeoutMs = 10000) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (($seen = Get-Fincore $Path) -ne $Expected -and $clock.ElapsedMilliseconds -lt $TimeoutMs) { Start-Sleep -Milliseconds 20 }
        $seen
    }
}

AfterAll {
    if ($folder -and (Test-Path $folder)) { Remove-Item -Recurse -Force $folder }
}

Describe 'Get-FileCache' {
    It 'reports a file that was just read as cached, with the size and the share' {
        $path = Write-TestFile read 8 -Sync
        Read-TestFile $path
        $c = Get-FileCache -Path $path
        $c.PSObject.TypeNames[0] | Should -Be 'MadvPS.FileCache'
        $c.Path | Should -Be $path
        $c.Size | Should -Be 8MB
        $c.Cached | Should -Be 8MB
        $c.CachedPercent | Should -Be 100
        $c.Dirty | Should -Be 0
        # cachestat(2) is Linux 6.5; older kernels get the figure another way.
        if ((Get-KernelVersion) -ge [version]'6.5') { $c.Source | Should -Be 'Cachestat' }
        $c.Inode | Should -Be ([long](stat -c %i $path))
    }

    It 'agrees with fincore from util-linux' {
        if (-not $hasFincore) { Set-ItResult -Skipped -Because 'fincore (util-linux) is not installed' ; return }
        $path = Write-TestFile partial 4 -Sync
        Invoke-FileAdvice -Path $path -Advice DontNeed
        $stream = [IO.File]::OpenRead($path)
        try { $null = $stream.Read([byte[]]::new(1MB), 0, 1MB) } finally { $stream.Dispose() }
        $c = Get-FileCache -Path $path
        $c.Cached | Should -BeGreaterThan 0
        $c.Cached | Should -BeLessThan 4MB
        # The read's readahead may still be in flight: fincore catches up when it completes.
        Wait-Fincore $path $c.Cached | Should -Be $c.Cached
    }

    It 'shows human sizes and the cached share in its table view, also for deserialized objects' {
        $path = Write-TestFile view 2 -Sync
        Read-TestFile $path
        $c = Get-FileCache $path
        $text = $c | Format-Table | Out-String -Width 200
        $text | Should -Match 'Cached%'
        $text | Should -Match '2 MiB\s+100\.0\s+2 MiB'
        $back = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($c))
        $back.PSObject.TypeNames[0] | Should -Be 'Deserialized.MadvPS.FileCache'
        ($back | Format-Table | Out-String -Width 200) | Should -Match '2 MiB\s+100\.0\s+2 MiB'
    }

    It 'takes files from Get-ChildItem, wildcards and -Recurse, each file once' {
        $tree = Join-Path $folder tree
        New-Item -ItemType Directory -Path (Join-Path $tree 'sub') -Force | Out-Null
        foreach ($n in 'a.bin', 'b.bin', 'sub/c.bin') { [IO.File]::WriteAllBytes((Join-Path $tree $n), [byte[]]::new(10000)) }
        @(Get-ChildItem -Path $tree -File | Get-FileCache).Path | Should -Be @((Join-Path $tree 'a.bin'), (Join-Path $tree 'b.bin'))
        @(Get-FileCache -Path (Join-Path $tree '*.bin')).Count | Should -Be 2
        # The wildcard also matches the directory 'sub': passed over without an error.
        @(Get-FileCache -Path (Join-Path $tree '*') -ErrorVariable e -ErrorAction SilentlyContinue).Count | Should -Be 2
        $e | Should -BeNullOrEmpty
        $all = @(Get-FileCache -Path $tree, (Join-Path $tree 'a.bin') -Recurse)
        $all.Path | Should -Be @((Join-Path $tree 'a.bin'), (Join-Path $tree 'b.bin'), (Join-Path $tree 'sub/c.bin'))
        $all[0].Size | Should -Be 10000
    }

    It 'takes -LiteralPath for names with wildcard characters' {
        $path = Join-Path $folder 'odd[1].bin'
        [IO.File]::WriteAllBytes($path, [byte[]]::new(5000))
        (Get-FileCache -LiteralPath $path).Size | Should -Be 5000
        # As -Path the brackets are a pattern that matches nothing; the name exists, so it is taken as written.
        (Get-FileCache -Path $path).Size | Should -Be 5000
    }

    It 'writes a clear error per bad input and goes on with the rest' {
        $good = Write-TestFile good 1 -Sync
        $results = @(Get-FileCache -Path (Join-Path $folder 'missing'), $folder, '/dev/null', $good, 'Env:PATH' -ErrorVariable errs -ErrorAction SilentlyContinue)
        $results.Path | Should -Be $good
        $errs.FullyQualifiedErrorId | Should -Be @(
            'FileNotFound,MadvPS.Commands.GetFileCacheCommand'
            'PathIsDirectory,MadvPS.Commands.GetFileCacheCommand'
            'NotARegularFile,MadvPS.Commands.GetFileCacheCommand'
            'NotAFileSystemPath,MadvPS.Commands.GetFileCacheCommand')
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be (Join-Path $folder 'missing')
        $errs[1].Exception.Message | Should -Match '-Recurse'
        $errs[2].Exception.Message | Should -Match 'character device'
    }

    It 'refuses hugetlbfs files with a clear error' {
        $mount = Join-Path $folder 'hugetlbfs'
        New-Item -ItemType Directory -Path $mount | Out-Null
        mount -t hugetlbfs none $mount 2>$null
        if ($LASTEXITCODE -ne 0) { Set-ItResult -Skipped -Because 'hugetlbfs cannot be mounted here (needs root and CONFIG_HUGETLBFS)'; return }
        try {
            $file = Join-Path $mount 'f'
            [IO.File]::WriteAllBytes($file, [byte[]]::new(0))
            Get-FileCache -Path $file -ErrorVariable errs -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errs[0].FullyQualifiedErrorId | Should -Be 'HugetlbfsNotSupported,MadvPS.Commands.GetFileCacheCommand'
            Invoke-FileAdvice -Path $file -Advice DontNeed -ErrorVariable errs2 -ErrorAction SilentlyContinue
            $errs2[0].FullyQualifiedErrorId | Should -Be 'HugetlbfsNotSupported,MadvPS.Commands.InvokeFileAdviceCommand'
        }
        finally {
            umount $mount
        }
    }

    It 'as another user: no read permission and hidden page cache are errors, never a made-up figure' {
        # setfsuid changes the file credentials of this thread only, which runs the pipeline; the
        # kernel then checks opens and page cache visibility as nobody (65534). The module's own
        # interop is used, through reflection, because Add-Type would compile for seconds.
        $setfsuid = [MadvPS.FileCache].Assembly.GetType('MadvPS.Interop.Libc').GetMethod('SetFsuid', [Reflection.BindingFlags]'NonPublic, Static')
        $shown = Write-TestFile shown 1 -Sync            # root's, 0644: nobody may read it but not see its cache
        $secret = Write-TestFile secret 1 -Sync          # root's, 0600
        $own = Write-TestFile own 1 -Sync                # nobody's
        chmod 0755 $folder; chmod 0644 $shown; chmod 0600 $secret; chown 65534 $own
        Invoke-FileAdvice -Path $own -Advice DontNeed
        Read-TestFile $own
        $prev = $setfsuid.Invoke($null, @([uint32]65534))
        try {
            $results = @(Get-FileCache -Path $shown, $secret, $own -ErrorVariable errs -ErrorAction SilentlyContinue)
        }
        finally {
            $null = $setfsuid.Invoke($null, @($prev))
        }
        $setfsuid.Invoke($null, @([uint32]::MaxValue)) | Should -Be 0
        $errs.FullyQualifiedErrorId | Should -Be @(
            'PageCacheHidden,MadvPS.Commands.GetFileCacheCommand'
            'FileAccessDenied,MadvPS.Commands.GetFileCacheCommand')
        $errs[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
        $errs[0].Exception.Message | Should -Match 'owner'
        $results.Path | Should -Be $own
        $results[0].Cached | Should -Be 1MB
    }

    It 'measures the files a process maps, once per file, passing over its other mappings' {
        $target = Start-TestTarget -FileMiB 8 -AnonMiB 4
        try {
            $mappings = @(Get-MemoryMapping -Id $target.Id)
            $files = @($mappings | Where-Object Kind -EQ File | Select-Object -ExpandProperty Path -Unique)
            $results = @($mappings | Get-FileCache -ErrorVariable errs -ErrorAction SilentlyContinue)
            $errs | Should -BeNullOrEmpty
            $results.Count | Should -Be $files.Count
            $data = $results | Where-Object Path -Like '*/madvps-target-*.data'
            $data.Cached | Should -BeGreaterOrEqual 8MB
            $mapping = $mappings | Where-Object Path -EQ $data.Path | Select-Object -First 1
            $data.Inode | Should -Be $mapping.Inode
            $data.Device | Should -Be $mapping.Device

            # Mapped pages do not leave with DontNeed, and the result says why.
            $r = $mappings | Where-Object Path -EQ $data.Path | Invoke-FileAdvice -Advice DontNeed -PassThru
            @($r).Count | Should -Be 1
            $r.CachedAfter | Should -BeGreaterOrEqual 8MB
            $r.Note | Should -Match 'map'

            # Once the file is deleted the mapping has no path: one error for it, the rest goes on.
            Remove-Item -LiteralPath $data.Path
            $again = @(Get-MemoryMapping -Id $target.Id | Get-FileCache -ErrorVariable gone -ErrorAction SilentlyContinue)
            $again.Count | Should -Be ($files.Count - 1)
            $gone.FullyQualifiedErrorId | Should -Be 'MappedFileDeleted,MadvPS.Commands.GetFileCacheCommand'
        }
        finally {
            $target.Stop()
        }
    }
}

Describe 'Invoke-FileAdvice' {
    It 'DontNeed drops a clean file from the cache and WillNeed brings all of it back' {
        $path = Write-TestFile cycle 16 -Sync
        Read-TestFile $path
        (Get-FileCache $path).Cached | Should -Be 16MB
        $drop = Invoke-FileAdvice -Path $path -Advice DontNeed -PassThru
        $drop.PSObject.TypeNames[0] | Should -Be 'MadvPS.FileAdviceResult'
        $drop.CachedBefore | Should -Be 16MB
        $drop.CachedAfter | Should -BeLessOrEqual 64KB
        (Get-FileCache $path).Cached | Should -BeLessOrEqual 64KB
        if ($hasFincore) { Get-Fincore $path | Should -BeLessOrEqual 64KB }

        $load = Get-FileCache $path | Invoke-FileAdvice -Advice WillNeed -PassThru
        $load.CachedAfter | Should -Be 16MB
        $load.Length | Should -Be 16MB
        (Get-FileCache $path).Cached | Should -Be 16MB
        if ($hasFincore) { Wait-Fincore $path 16MB | Should -Be 16MB -Because 'the readahead WillNeed started completes within the deadline' }
    }

    It 'advises only the range given by -Offset and -Length' {
        $path = Write-TestFile range 4 -Sync
        Read-TestFile $path
        $r = Invoke-FileAdvice -Path $path -Advice DontNeed -Offset 1MB -Length 2MB -PassThru
        $r.Offset | Should -Be 1MB
        $r.Length | Should -Be 2MB
        $r.CachedBefore | Should -Be 2MB
        $r.CachedAfter | Should -Be 0
        (Get-FileCache $path).Cached | Should -Be 2MB
    }

    It 'keeps the dirty pages of a file without -Flush and says so; -Flush drops them' {
        $path = Write-TestFile dirty 8
        (Get-FileCache $path).Dirty | Should -BeGreaterThan 4MB
        $r = Invoke-FileAdvice -Path $path -Advice DontNeed -PassThru -WarningVariable warnings -WarningAction SilentlyContinue
        $r.DirtyBefore | Should -BeGreaterThan 4MB
        $r.CachedAfter | Should -BeGreaterThan 4MB
        $r.Flushed | Should -BeFalse
        $r.Note | Should -Match 'dirty'
        $warnings | Should -HaveCount 1
        "$warnings" | Should -Match 'only clean pages'
        "$warnings" | Should -Match '-Flush'

        $null = Write-TestFile dirty 8
        $f = Invoke-FileAdvice -Path $path -Advice DontNeed -Flush -PassThru -WarningVariable warnings2
        $f.Flushed | Should -BeTrue
        $f.DirtyBefore | Should -BeGreaterThan 0
        $f.CachedAfter | Should -BeLessOrEqual 64KB
        $warnings2 | Should -BeNullOrEmpty
    }

    It 'changes nothing with -WhatIf' {
        $path = Write-TestFile whatif 2 -Sync
        Read-TestFile $path
        Invoke-FileAdvice -Path $path -Advice DontNeed -WhatIf -PassThru | Should -BeNullOrEmpty
        (Get-FileCache $path).Cached | Should -Be 2MB
    }

    It 'warns once that per-descriptor advice does not last' {
        $a = Write-TestFile seq1 1 -Sync
        $b = Write-TestFile seq2 1 -Sync
        $r = Invoke-FileAdvice -Path $a, $b -Advice Sequential -PassThru -WarningVariable warnings -WarningAction SilentlyContinue
        $r.Count | Should -Be 2
        $warnings | Should -HaveCount 1
        "$warnings" | Should -Match 'no reader is affected'
    }

    It 'refuses -Flush with any advice but DontNeed' {
        { Invoke-FileAdvice -Path '/nonexistent' -Advice WillNeed -Flush } | Should -Throw -ErrorId 'FlushNeedsDontNeed,MadvPS.Commands.InvokeFileAdviceCommand'
    }

    It 'writes a clear error per bad input and goes on with the rest' {
        $good = Write-TestFile good2 1 -Sync
        Read-TestFile $good
        $r = @(Invoke-FileAdvice -Path (Join-Path $folder 'missing'), '/dev/null', $good -Advice DontNeed -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue)
        $r.Path | Should -Be $good
        $r[0].CachedAfter | Should -BeLessOrEqual 64KB
        $errs.FullyQualifiedErrorId | Should -Be @(
            'FileNotFound,MadvPS.Commands.InvokeFileAdviceCommand'
            'NotARegularFile,MadvPS.Commands.InvokeFileAdviceCommand')
    }

    It 'refuses to advise a file replaced since it was measured' {
        $path = Write-TestFile replaced 1 -Sync
        $c = Get-FileCache $path
        # Renamed over it while both exist, so the new file cannot reuse the old inode number.
        $other = Write-TestFile replacement 1 -Sync
        Move-Item -Path $other -Destination $path -Force
        $c | Invoke-FileAdvice -Advice DontNeed -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -Be 'FileReplaced,MadvPS.Commands.InvokeFileAdviceCommand'
    }
}
