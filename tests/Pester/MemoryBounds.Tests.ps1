# Memory brought in on purpose is bounded: WillNeed on a sparse 100 GiB file reads its data only
# (fincore, MemAvailable), WillNeed above $MadvPSReadLimitPercent is refused without -Force, and
# advice is given where the page cache cannot be measured.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
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
