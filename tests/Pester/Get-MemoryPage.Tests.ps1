# Get-MemoryPage on the project's target program. Expected pages come from /proc/PID/pagemap
# decoded here (bit 63 present, 62 swapped, 61 file page, 58 guard, 56 exclusive), not by the module.
# Uses a swap file of its own: run under flock /tmp/madvps-host.lock.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:pageSize = [Environment]::SystemPageSize

    # One string per page: State/Exclusive/File, from the test's own reading of pagemap.
    function Get-PagemapPage([int] $Id, [ulong] $Start, [long] $Length) {
        $count = [int]($Length / $pageSize)
        $bytes = [byte[]]::new($count * 8)
        $file = [IO.FileStream]::new("/proc/$Id/pagemap", 'Open', 'Read', 'ReadWrite', 1)
        try {
            $null = $file.Seek([long]($Start / [ulong]$pageSize) * 8, 'Begin')
            $file.ReadExactly($bytes)
        }
        finally { $file.Dispose() }
        for ($i = 0; $i -lt $count; $i++) {
            $w = [BitConverter]::ToUInt64($bytes, $i * 8)
            $present = ($w -shr 63) -band 1
            $swapped = (($w -shr 62) -band 1) -and -not (($w -shr 58) -band 1)
            $state = if ($present) { 'Resident' } elseif ($swapped) { 'Swapped' } else { 'Absent' }
            $exclusive = [bool]($present -and (($w -shr 56) -band 1))
            $file = [bool](($present -or $swapped) -and (($w -shr 61) -band 1))
            "$state/$exclusive/$file"
        }
    }

    # The runs laid out page by page, in the same form.
    function Expand-Run($Runs, [ulong] $Start, [long] $Length) {
        $pages = [string[]]::new([int]($Length / $pageSize))
        foreach ($r in $Runs) {
            $first = [int](($r.Start - $Start) / [ulong]$pageSize)
            $n = [int]($r.Size / $pageSize)
            $text = "$($r.State)/$($r.Exclusive)/$($r.FilePage)"
            for ($i = 0; $i -lt $n; $i++) { $pages[$first + $i] = $text }
        }
        $pages
    }
}

Describe 'Runs against pagemap' {
    BeforeAll {
        $t = Start-TestTarget -AnonMiB 4 -FileMiB 4 -MemfdMiB 4 -ReserveMiB 16
        $t.Send('touch-every reserve 3') | Should -Be 'touched 1366'
    }
    AfterAll { $t.Stop() }

    It 'agrees page for page with pagemap for <_>' -ForEach @('anon', 'file', 'memfd', 'reserve') {
        $r = $t.Region($_)
        $runs = @(Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length)
        $expected = Get-PagemapPage $t.Id $r.Start $r.Length
        $actual = Expand-Run $runs $r.Start $r.Length
        $actual | Should -Be $expected
        $runs | ForEach-Object { $_.Start + [ulong]$_.Size | Should -Be $_.End }
        $runs[0].Start | Should -Be $r.Start
        $runs[-1].End | Should -Be $r.End
    }

    It 'joins adjacent pages in the same state into one run' {
        $r = $t.Region('reserve')
        $runs = @(Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length)
        # One resident page, then two absent ones, over and over: 1366 resident runs, 1365 or 1366 absent.
        @($runs | Where-Object State -EQ 'Resident').Count | Should -Be 1366
        @($runs | Where-Object State -EQ 'Resident' | Where-Object Size -NE $pageSize).Count | Should -Be 0
        @($runs | Where-Object State -EQ 'Absent' | Where-Object Size -NE (2 * $pageSize)).Count | Should -BeLessOrEqual 1
    }

    It 'carries the identity, Path and Kind of the mapping, and filters by -State' {
        $m = Get-TargetMapping $t 'file'
        $runs = @($m | Get-MemoryPage -State Resident)
        $runs.Count | Should -BeGreaterThan 0
        $runs.State | Sort-Object -Unique | Should -Be 'Resident'
        $runs[0].ProcessId | Should -Be $t.Id
        $runs[0].ProcessStartTime | Should -Be $m.ProcessStartTime
        $runs[0].BootId | Should -Be $m.BootId
        $runs[0].Path | Should -Be $m.Path
        $runs[0].Kind | Should -Be 'File'
        $runs[0].FilePage | Should -BeTrue
    }

    It 'sums a mapping with -Summary as the runs do' {
        $m = Get-TargetMapping $t 'reserve'
        $s = $m | Get-MemoryPage -Summary
        $s | Should -BeOfType MadvPS.MemoryPageSummary
        $pages = Get-PagemapPage $t.Id $m.Start $m.Size
        $s.ResidentBytes | Should -Be (@($pages | Where-Object { $_ -like 'Resident/*' }).Count * $pageSize)
        $s.AbsentBytes | Should -Be (@($pages | Where-Object { $_ -like 'Absent/*' }).Count * $pageSize)
        $s.ExclusiveBytes | Should -Be (@($pages | Where-Object { $_ -like '*/True/*' }).Count * $pageSize)
        $s.Runs | Should -Be @($m | Get-MemoryPage).Count
        $s.Size | Should -Be $m.Size
    }

    It 'takes CSV rows and deserialized mappings by property name' {
        $m = Get-TargetMapping $t 'file'
        $csv = $m | ConvertTo-Csv | ConvertFrom-Csv
        $back = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($m, 1))
        $live = @($m | Get-MemoryPage)
        (@($csv | Get-MemoryPage) | ForEach-Object { "$($_.Start) $($_.Size) $($_.State)" }) | Should -Be ($live | ForEach-Object { "$($_.Start) $($_.Size) $($_.State)" })
        (@($back | Get-MemoryPage) | ForEach-Object { "$($_.Start) $($_.Size) $($_.State)" }) | Should -Be ($live | ForEach-Object { "$($_.Start) $($_.Size) $($_.State)" })
    }

    It 'shows runs and summaries in 80 columns, state and size first' {
        $r = $t.Region('file')
        foreach ($objects in @((Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length), (Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length -Summary))) {
            $lines = ($objects | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() }
            $lines[0] | Should -Match '^\s*PID\s+(State\s+Size|Size\s+Resident)'
            # The path is the last column: a row ends with its start, cut at 80 columns.
            $lines[2] | Should -Match (' File +' + [regex]::Escape((Get-MemoryMapping -Id $t.Id -Address $r.Start).Path.Substring(0, 8)))
            $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        }
    }

    It 'names the source with -Verbose' {
        $r = $t.Region('anon')
        $verbose = Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] }
        $verbose.Message | Should -Match 'PAGEMAP_SCAN'
    }

    It 'reports a range outside any mapping and goes on with the next input' {
        $r = $t.Region('anon')
        $inputs = @(
            [pscustomobject]@{ ProcessId = $t.Id; Start = [ulong]0x1000; Size = 4096 }
            [pscustomobject]@{ ProcessId = $t.Id; Start = $r.Start; Size = $r.Length }
        )
        $runs = @($inputs | Get-MemoryPage -ErrorVariable e -ErrorAction SilentlyContinue)
        $e | Should -HaveCount 1
        $e[0].FullyQualifiedErrorId | Should -Be 'RangeNotMapped,MadvPS.Commands.GetMemoryPageCommand'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        ($runs | Measure-Object Size -Sum).Sum | Should -Be $r.Length
    }

    It 'refuses a mapping whose process start time is not the process''s now' {
        $m = Get-TargetMapping $t 'anon'
        $m.ProcessStartTime = $m.ProcessStartTime + 1
        $runs = @($m | Get-MemoryPage -ErrorVariable e -ErrorAction SilentlyContinue)
        $runs | Should -HaveCount 0
        $e[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.GetMemoryPageCommand'
    }

    It 'refuses a mapping read in another boot' {
        $m = Get-TargetMapping $t 'anon'
        $m.BootId = [guid]::NewGuid().ToString()
        $runs = @($m | Get-MemoryPage -ErrorVariable e -ErrorAction SilentlyContinue)
        $runs | Should -HaveCount 0
        $e[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.GetMemoryPageCommand'
    }
}

Describe 'Many small mappings piped one after the other' {
    # They are read together (one walk for many), so each mapping's runs must still be its own pages.
    BeforeAll {
        $t = Start-TestTarget -Mappings 400 -AnonMiB 4 -FileMiB 4
        $script:maps = @(Get-TargetMapping $t 'many') + @(Get-TargetMapping $t 'anon') + @(Get-TargetMapping $t 'file') | Sort-Object Start
    }
    AfterAll { $t.Stop() }

    It 'gives each mapping the runs of its own pages, as pagemap says' {
        $maps.Count | Should -BeGreaterOrEqual 402
        $runs = @($maps | Get-MemoryPage)
        $i = 0
        foreach ($m in $maps) {
            $mine = [Collections.Generic.List[object]]::new()
            while ($i -lt $runs.Count -and $runs[$i].Start -lt $m.End) { $mine.Add($runs[$i]); $i++ }
            $mine[0].Start | Should -Be $m.Start
            $mine[-1].End | Should -Be $m.End
            $mine | ForEach-Object { $_.Path | Should -Be $m.Path }
            Expand-Run $mine $m.Start $m.Size | Should -Be (Get-PagemapPage $t.Id $m.Start $m.Size)
        }
        $i | Should -Be $runs.Count
    }

    It 'gives each mapping its own totals with -Summary' {
        $summaries = @($maps | Get-MemoryPage -Summary)
        $summaries.Count | Should -Be $maps.Count
        for ($k = 0; $k -lt $maps.Count; $k++) {
            $m = $maps[$k]
            $pages = Get-PagemapPage $t.Id $m.Start $m.Size
            $summaries[$k].Start | Should -Be $m.Start
            $summaries[$k].ResidentBytes | Should -Be (@($pages | Where-Object { $_ -like 'Resident/*' }).Count * $pageSize)
            $summaries[$k].AbsentBytes | Should -Be (@($pages | Where-Object { $_ -like 'Absent/*' }).Count * $pageSize)
        }
    }

    It 'writes an error where its input came, after the runs of the mappings before it' {
        # Of the same process as the mappings (same identity), so its error comes while their runs wait to be read.
        $bad = [pscustomobject]@{ ProcessId = $t.Id; Start = [ulong]0x1000; Size = 4096; ProcessStartTime = $maps[0].ProcessStartTime; BootId = $maps[0].BootId }
        $inputs = @($maps[0..9]) + $bad + @($maps[10..19])
        $out = @($inputs | Get-MemoryPage -ErrorAction Continue 2>&1)
        $at = @(for ($k = 0; $k -lt $out.Count; $k++) { if ($out[$k] -is [Management.Automation.ErrorRecord]) { $k } })
        $at | Should -HaveCount 1
        $out[$at[0]].FullyQualifiedErrorId | Should -Be 'RangeNotMapped,MadvPS.Commands.GetMemoryPageCommand'
        $out[$at[0] - 1].End | Should -Be $maps[9].End
        $out[$at[0] + 1].Start | Should -Be $maps[10].Start
    }

    It 'binds live mappings to -InputObject and deserialized ones by property name' {
        $trace = Join-Path ([IO.Path]::GetTempPath()) "madvps-binding-$PID.txt"
        try {
            $m = $maps[0]
            $null = Trace-Command -Name ParameterBinding -FilePath $trace -Expression { $m | Get-MemoryPage }
            Get-Content -Raw $trace | Should -Match 'to param \[InputObject\] SUCCESSFUL'
            $back = [Management.Automation.PSSerializer]::Deserialize([Management.Automation.PSSerializer]::Serialize($m, 1))
            Remove-Item $trace
            $null = Trace-Command -Name ParameterBinding -FilePath $trace -Expression { $back | Get-MemoryPage }
            $text = Get-Content -Raw $trace
            $text | Should -Match 'to param \[Id\] SUCCESSFUL'
            $text | Should -Not -Match 'to param \[InputObject\] SUCCESSFUL'
        }
        finally { Remove-Item $trace -ErrorAction Ignore }
    }
}

Describe 'A huge reservation' {
    It 'is one Absent run, not a run per page' {
        $t = Start-TestTarget -ReserveMiB (16 * 1024 * 1024)
        try {
            $r = $t.Region('reserve')
            $runs = @(Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length)
            $runs | Should -HaveCount 1
            $runs[0].State | Should -Be 'Absent'
            $runs[0].Size | Should -Be (16TB)
        }
        finally { $t.Stop() }
    }
}

Describe 'A process that exits while it is read' {
    It 'gives ProcessExited after the runs read before it' {
        $t = Start-TestTarget -ReserveMiB 1024
        try {
            $t.Send('touch-every reserve 2') | Out-Null
            $r = $t.Region('reserve')
            $seen = [Collections.Generic.List[object]]::new()
            Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length -ErrorVariable e -ErrorAction SilentlyContinue | ForEach-Object {
                if ($seen.Count -eq 0) { $t.Process.Kill(); $t.Process.WaitForExit() }
                $seen.Add($_)
            }
            $e | Should -HaveCount 1
            $e[0].FullyQualifiedErrorId | Should -Be 'ProcessExited,MadvPS.Commands.GetMemoryPageCommand'
            # The runs written were read while it lived: one resident page, one absent, over and over.
            $seen.Count | Should -BeGreaterThan 0
            @($seen | Where-Object Size -NE $pageSize).Count | Should -Be 0
            $seen[-1].End | Should -BeLessThan $r.End
        }
        finally { $t.Stop() }
    }
}

Describe 'After PageOut of half a file mapping' {
    It 'shows that half Absent and the other half Resident' {
        $t = Start-TestTarget -FileMiB 16
        try {
            $r = $t.Region('file')
            $half = $r.Length / 2
            Invoke-MemoryAdvice -Id $t.Id -Address $r.Start -Length $half -Advice PageOut
            $first = @(Get-MemoryPage -Id $t.Id -Address $r.Start -Length $half)
            $second = @(Get-MemoryPage -Id $t.Id -Address ($r.Start + [ulong]$half) -Length $half)
            # PageOut may leave pages that still sit in a CPU's lru_add batch (up to 31 folios a CPU).
            $leftBehind = ($first | Where-Object State -NE 'Absent' | Measure-Object Size -Sum).Sum
            $leftBehind | Should -BeLessOrEqual (64 * $pageSize)
            ($second | Where-Object State -EQ 'Resident' | Measure-Object Size -Sum).Sum | Should -Be $half
            # The test's own reading agrees.
            (Expand-Run $first $r.Start $half) | Should -Be (Get-PagemapPage $t.Id $r.Start $half)
        }
        finally { $t.Stop() }
    }
}

Describe 'With swap' {
    BeforeAll {
        $script:swap = Enable-TestSwap -MiB 256
    }
    AfterAll { Disable-TestSwap $swap }

    It 'shows paged-out anonymous memory as Swapped' {
        if (-not $swap) { Set-ItResult -Skipped -Because 'no swap file could be added (not root, or swapon refused)'; return }
        $t = Start-TestTarget -AnonMiB 16
        try {
            $r = $t.Region('anon')
            Invoke-MemoryAdvice -Id $t.Id -Address $r.Start -Length $r.Length -Advice PageOut
            $runs = @(Get-MemoryPage -Id $t.Id -Address $r.Start -Length $r.Length)
            $expected = Get-PagemapPage $t.Id $r.Start $r.Length
            (Expand-Run $runs $r.Start $r.Length) | Should -Be $expected
            # Freshly faulted pages in a CPU's lru_add batch may stay: up to 31 folios a CPU.
            ($runs | Where-Object State -EQ 'Swapped' | Measure-Object Size -Sum).Sum | Should -BeGreaterOrEqual ($r.Length - 64 * $pageSize)
        }
        finally { $t.Stop() }
    }

    It 'sends PageOut only the resident runs piped to it, as strace sees the iovecs' {
        if (-not $swap) { Set-ItResult -Skipped -Because 'no swap file could be added (not root, or swapon refused)'; return }
        $t = Start-TestTarget -ReserveMiB 8
        $work = Join-Path ([IO.Path]::GetTempPath()) "madvps-pages-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $work | Out-Null
        try {
            $r = $t.Region('reserve')
            $t.Send('touch-every reserve 2') | Out-Null
            # The first quarter into swap: resident, swapped and absent pages side by side.
            Invoke-MemoryAdvice -Id $t.Id -Address $r.Start -Length ($r.Length / 4) -Advice PageOut
            $before = Get-PagemapPage $t.Id $r.Start $r.Length
            @($before | Where-Object { $_ -like 'Swapped/*' }).Count | Should -BeGreaterThan 100

            $log = Join-Path $work 'strace.log'
            $script = "Import-Module '$env:MADVPS_MODULE'; Get-MemoryPage -Id $($t.Id) -Address $($r.Start) -Length $($r.Length) -State Resident | Invoke-MemoryAdvice -Advice PageOut"
            & strace -f --seccomp-bpf -e trace=process_madvise -v -s 1000000 -o $log ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script *> $null
            $text = Get-Content -Raw $log
            $sent = [Collections.Generic.HashSet[ulong]]::new()
            foreach ($m in [regex]::Matches($text, 'iov_base=0x([0-9a-f]+), iov_len=(\d+)')) {
                $base = [Convert]::ToUInt64($m.Groups[1].Value, 16)
                for ($a = [ulong]0; $a -lt [ulong]$m.Groups[2].Value; $a += [ulong]$pageSize) { $null = $sent.Add($base + $a) }
            }
            $text | Should -Not -Match '\.\.\.\]'
            for ($i = 0; $i -lt $before.Count; $i++) {
                $address = $r.Start + [ulong]($i * $pageSize)
                $sent.Contains($address) | Should -Be ($before[$i] -like 'Resident/*') -Because "page 0x$($address.ToString('x')) was $($before[$i])"
            }
            # What was swapped is still swapped, what was absent still absent.
            $after = Get-PagemapPage $t.Id $r.Start $r.Length
            for ($i = 0; $i -lt $before.Count; $i++) {
                if ($before[$i] -notlike 'Resident/*') { $after[$i] | Should -Be $before[$i] }
            }
        }
        finally {
            $t.Stop()
            Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Without ptrace read access' {
    It 'is PermissionDenied, once, saying what to do' {
        # An unprivileged user reading root's process. The pinned pwsh lives under /root, which the
        # user cannot enter: hard links of it (a copy where /tmp is another file system) and a copy
        # of the module, in a folder the user can read, removed afterwards.
        $sandbox = Join-Path ([IO.Path]::GetTempPath()) "madvps-pages-nonroot-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $sandbox | Out-Null
        $t = Start-TestTarget -AnonMiB 4
        try {
            & chmod 755 $sandbox
            & cp -al $PSHOME (Join-Path $sandbox 'pwsh') 2>$null
            if ($LASTEXITCODE -ne 0) { & cp -a $PSHOME (Join-Path $sandbox 'pwsh') }
            Copy-Item -Recurse (Split-Path $env:MADVPS_MODULE) (Join-Path $sandbox 'MadvPS')
            $userHome = Join-Path $sandbox 'home'
            New-Item -ItemType Directory -Path $userHome | Out-Null
            & chown 65534:65534 $userHome
            $script = "Import-Module '$sandbox/MadvPS/MadvPS.psd1'; Get-MemoryPage -Id $($t.Id) -ErrorVariable e -ErrorAction SilentlyContinue | Out-Null; " +
                '$e | ForEach-Object { $_.FullyQualifiedErrorId, $_.CategoryInfo.Category, $_.Exception.Message -join ''|'' }'
            $lines = & env "HOME=$userHome" "DOTNET_CLI_HOME=$userHome" "TMPDIR=$userHome" setpriv --reuid 65534 --regid 65534 --clear-groups -- ([Environment]::ProcessPath) (Join-Path $sandbox 'pwsh/pwsh.dll') -NoProfile -NonInteractive -Command $script
            $lines | Should -HaveCount 1
            $id, $category, $message = $lines -split '\|', 3
            $id | Should -Be 'ProcessAccessDenied,MadvPS.Commands.GetMemoryPageCommand'
            $category | Should -Be 'PermissionDenied'
            $message | Should -Match 'CAP_SYS_PTRACE'
        }
        finally {
            $t.Stop()
            Remove-Item -Recurse -Force $sandbox -ErrorAction SilentlyContinue
        }
    }
}
