# Mappings that crossed remoting (PSSerializer, a real sshd) or CSV: advised as live ones on the
# host they were read on, refused anywhere else.
BeforeAll {
    # PageOut isolates pages from the LRU lists; pages faulted in on another CPU moments before
    # can still sit in that CPU's lru_add folio batch (up to 31 folios, mm/swap.c), which the
    # caller's lru_add_drain() does not reach, so a few may stay resident.
    $script:LruBatchSlack = 31 * 4KB
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'SshEndpoint.psm1') -Force

    # What Invoke-Command does to each output object: PSSerializer at depth 1.
    function ConvertTo-Deserialized {
        process { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_, 1)) }
    }

    function Get-Outcome {
        # The part of AdviceResults that must not depend on how the ranges arrived.
        process { '{0:x} {1} {2} {3} {4}' -f $_.Start, $_.Size, $_.Status, $_.BytesAdvised, $_.Reason }
    }

    $script:bootId = (Get-Content /proc/sys/kernel/random/boot_id).Trim()
    $script:otherBoot = [guid]::NewGuid().ToString()
}

Describe 'Mappings that crossed remoting or CSV, on the host they were read on' {
    BeforeAll {
        $script:target = Start-TestTarget -FileMiB 8 -AnonMiB 2 -MemfdMiB 2 -LockedMiB 1
        $script:csv = Join-Path $TestDrive 'mappings.csv'
    }

    AfterAll {
        if ($script:target) { $script:target.Stop(); $script:target = $null }
    }

    It 'gives the same outcome for live, deserialized and CSV mappings, skips included' {
        $ranges = @(foreach ($region in 'file', 'anon', 'memfd', 'locked') { Get-TargetMapping -Target $target -Region $region }) +
            @(Get-MemoryMapping -Id $target.Id -Kind Vsyscall)
        $live = @($ranges | Invoke-MemoryAdvice -Advice Cold -PassThru | Get-Outcome)
        # The comparison means something only if the policy used VmFlags, Kind and the address.
        ($live -match 'Advised').Count | Should -BeGreaterOrEqual 3
        $live -match 'Skipped .*locked' | Should -Not -BeNullOrEmpty
        $live -match 'Skipped .*vsyscall' | Should -Not -BeNullOrEmpty

        $ranges | ConvertTo-Deserialized | Invoke-MemoryAdvice -Advice Cold -PassThru | Get-Outcome | Should -Be $live
        $ranges | Export-Csv -Path $csv
        Import-Csv -Path $csv | Invoke-MemoryAdvice -Advice Cold -PassThru | Get-Outcome | Should -Be $live
    }

    It 'binds the strings of a CSV row: VmFlags names, Kind, and addresses above 2^63' {
        $row = Get-MemoryMapping -Id $target.Id -Kind Vsyscall | ConvertTo-Csv | ConvertFrom-Csv
        [ulong]$row.Start | Should -BeGreaterThan ([ulong][long]::MaxValue)
        $row.Kind | Should -Be 'Vsyscall'
        $r = $row | Invoke-MemoryAdvice -Advice Cold -PassThru
        $r.Start | Should -Be ([ulong]$row.Start)
        $r.Status | Should -Be 'Skipped'

        $locked = Get-TargetMapping -Target $target -Region locked | ConvertTo-Csv | ConvertFrom-Csv
        $locked.VmFlags | Should -Match '\bLocked\b'
        ($locked | Invoke-MemoryAdvice -Advice PageOut -PassThru).Reason | Should -Match 'locked'
    }

    It 'pages out the file pages of a target from Import-Csv rows, data intact' {
        $file = $target.Region('file')
        $null = $target.Send('touch file')
        $target.Resident('file') | Should -Be $file.Length
        $checksum = $target.Checksum('file')
        Get-TargetMapping -Target $target -Region file | Export-Csv -Path $csv

        $r = Import-Csv -Path $csv | Invoke-MemoryAdvice -Advice PageOut -PassThru
        $r.Status | Should -Be 'Advised'
        $target.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack
        $target.Checksum('file') | Should -Be $checksum
    }

    It 'pages out deserialized mappings as live ones' {
        $null = $target.Send('touch file')
        $target.Resident('file') | Should -Be $target.Region('file').Length
        $m = Get-TargetMapping -Target $target -Region file | ConvertTo-Deserialized
        $m.PSObject.TypeNames[0] | Should -Be 'Deserialized.MadvPS.MemoryMapping'
        ($m | Invoke-MemoryAdvice -Advice PageOut -PassThru).Status | Should -Be 'Advised'
        $target.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack
    }

    It 'refuses a row read in another boot, naming both boots and the host, and advises nothing' {
        $null = $target.Send('touch file')
        $row = Get-TargetMapping -Target $target -Region file | ConvertTo-Csv | ConvertFrom-Csv
        $row.BootId = $otherBoot
        $row | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'web7'

        $out = $row | Invoke-MemoryAdvice -Advice PageOut -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match $otherBoot
        $errs[0].Exception.Message | Should -Match $bootId
        $errs[0].Exception.Message | Should -Match 'read on web7'
        $target.Resident('file') | Should -Be $target.Region('file').Length
    }

    It 'refuses rows whose PID now names another process, and advises the others' {
        $other = Start-TestTarget -FileMiB 4
        try {
            $null = $target.Send('touch file')
            $rows = @(Get-TargetMapping -Target $target -Region file | ConvertTo-Csv | ConvertFrom-Csv)
            # The same row, as if its process had exited and the PID now belonged to $other.
            $replaced = $rows[0] | Select-Object *
            $replaced.ProcessId = $other.Id
            $replaced.Start = $other.Region('file').Start
            $replaced.Size = $other.Region('file').Length

            $out = @($rows + $replaced | Invoke-MemoryAdvice -Advice PageOut -PassThru -ErrorVariable errs -ErrorAction SilentlyContinue)
            $out.ProcessId | Sort-Object -Unique | Should -Be $target.Id
            $errs | Should -HaveCount 1
            $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
            $errs[0].Exception.Message | Should -Match "tick $($rows[0].ProcessStartTime)\b"
            $other.Resident('file') | Should -Be $other.Region('file').Length
            $target.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack
        }
        finally { $other.Stop() }
    }
}

Describe 'Over a real SSH endpoint' {
    BeforeAll {
        $script:skipReason = Install-SshServer
        if (-not $skipReason) {
            $script:endpoint = Start-SshEndpoint -ModuleDirectory (Split-Path (Split-Path $env:MADVPS_MODULE)) -ListenAddress 127.0.0.1, 127.0.0.2
            $script:connection = Get-SshConnection $endpoint
            $script:session = New-PSSession @connection
            $script:target = Start-TestTarget -FileMiB 8 -AnonMiB 2
            $script:fileRegion = $target.Region('file')
        }
    }

    AfterAll {
        if ($script:session) { Remove-PSSession $script:session }
        if ($script:endpoint) { Stop-SshEndpoint $script:endpoint }
        if ($script:target) { $script:target.Stop() }
    }

    It 'runs Get-MemoryMapping with Invoke-Command -HostName, and the results format as live ones' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $id = $target.Id
        $remote = @(Invoke-Command @connection -ScriptBlock { Get-MemoryMapping -Id $using:id })
        $remote.Count | Should -BeGreaterThan 10
        $remote[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.MadvPS.MemoryMapping'
        $remote[0].PSComputerName | Should -Be '127.0.0.1'
        $file = $remote | Where-Object Start -EQ $fileRegion.Start
        $file.Start | Should -BeOfType [ulong]
        $file.Rss | Should -BeOfType [long]
        $file.Rss | Should -Be $fileRegion.Length
        $file.Kind | Should -Be 'File'
        $file.VmFlags | Should -Match '^Read, '

        # The module's view, and the PSComputerName column remoting output adds to any view.
        $shown = $file | Out-String -Width 300
        $shown | Should -Match 'PID +Size +Rss +Swap +Perm +Kind +Path +PSComputerName'
        $shown | Should -Match ('{0} +8 MiB +8 MiB .* r--p File +{1} +127\.0\.0\.1' -f $id, [regex]::Escape($file.Path))
        ($file | Format-Table -View Address | Out-String -Width 300) | Should -Match ('{0:x} +{1:x} ' -f $fileRegion.Start, $file.End)
        # Without that column, exactly what the live object shows.
        $live = Get-MemoryMapping -Id $id -Address $fileRegion.Start
        $file.PSShowComputerName = $false
        ($file | Format-Table | Out-String -Width 300) | Should -Be ($live | Format-Table | Out-String -Width 300)
        ($file | Format-List | Out-String -Width 300) | Should -Be ($live | Format-List | Out-String -Width 300)
    }

    It 'pages out the target''s file pages with a remote Set-ProcessMadvise, and the result comes back' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $id = $target.Id
        $null = $target.Send('touch file')
        $target.Resident('file') | Should -Be $fileRegion.Length
        $checksum = $target.Checksum('file')

        $r = Invoke-Command -Session $session -ScriptBlock { Set-ProcessMadvise -Id $using:id -MappingType File -Advice PageOut }
        $r.PSObject.TypeNames[0] | Should -Be 'Deserialized.MadvPS.ProcessAdviceResult'
        $r.PSComputerName | Should -Be '127.0.0.1'
        $r.ProcessId | Should -Be $id
        $r.Advice | Should -Be 'PageOut'
        $r.MappingType | Should -Be 'File'
        $r.BytesAdvised | Should -BeGreaterOrEqual $fileRegion.Length
        $r.RssReclaimed | Should -BeGreaterOrEqual ($fileRegion.Length * 7 / 8)
        $r.Duration | Should -BeOfType [timespan]
        $target.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack
        $target.Checksum('file') | Should -Be $checksum
        ($r | Out-String -Width 300) | Should -Match "PageOut .*$([regex]::Escape([MadvPS.Display]::Bytes($r.BytesAdvised)))"
    }

    It 'advises mappings sent back to the host they came from, and refuses one whose boot id was altered' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $id = $target.Id
        $base = Invoke-Command -Session $session -ScriptBlock { (Get-Command Get-MemoryMapping).Module.ModuleBase }
        $base | Should -Be (Split-Path $env:MADVPS_MODULE) -Because 'the remote session must use the module under test'

        $null = $target.Send('touch file')
        $m = Invoke-Command -Session $session -ScriptBlock { Get-MemoryMapping -Id $using:id } | Where-Object Start -EQ $fileRegion.Start
        $r = Invoke-Command -Session $session -ScriptBlock { $using:m | Invoke-MemoryAdvice -Advice PageOut -PassThru }
        $r.Status | Should -Be 'Advised'
        $r.BytesAdvised | Should -Be $fileRegion.Length
        $target.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack

        $null = $target.Send('touch file')
        $m.BootId = $otherBoot
        $out = Invoke-Command -Session $session -ScriptBlock { $using:m | Invoke-MemoryAdvice -Advice PageOut -PassThru } -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessIdentityMismatch,MadvPS.Commands.InvokeMemoryAdviceCommand'
        $errs[0].Exception.Message | Should -Match $otherBoot
        $errs[0].Exception.Message | Should -Match 'read on 127\.0\.0\.1'
        $target.Resident('file') | Should -Be $fileRegion.Length
    }

    It 'fans out to several hosts with -ThrottleLimit and gives a table of bytes reclaimed per host' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $second = Start-TestTarget -FileMiB 8
        $fleet = $null
        try {
            # The two "hosts" are two loopback addresses of one sshd; each advises its own target.
            $targetOf = @{ '127.0.0.1' = $target.Id; '127.0.0.2' = $second.Id }
            $null = $target.Send('touch file')
            # One session per host (the one to 127.0.0.1 is reused: each costs a pwsh start).
            $secondHost = Get-SshConnection $endpoint -HostName 127.0.0.2
            $fleet = New-PSSession @secondHost
            $results = Invoke-Command -Session $session, $fleet -ThrottleLimit 2 -ScriptBlock {
                $address = ($env:SSH_CONNECTION -split ' ')[2]
                Set-ProcessMadvise -Id ($using:targetOf)[$address] -MappingType File -Advice PageOut
            }
            $table = $results | Group-Object PSComputerName | ForEach-Object {
                [pscustomobject]@{ Host = $_.Name; Reclaimed = ($_.Group | Measure-Object RssReclaimed -Sum).Sum }
            }
            $table.Host | Sort-Object | Should -Be '127.0.0.1', '127.0.0.2'
            foreach ($row in $table) { $row.Reclaimed | Should -BeGreaterOrEqual 7MB -Because "$($row.Host) paged out its target's 8 MiB file" }
            $target.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack
            $second.Resident('file') | Should -BeLessOrEqual $script:LruBatchSlack
        }
        finally {
            if ($fleet) { Remove-PSSession $fleet }
            $second.Stop()
        }
    }
}
