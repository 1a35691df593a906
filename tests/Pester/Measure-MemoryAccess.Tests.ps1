# Measure-MemoryAccess against the target program: one region kept busy by touch-loop, the others
# left alone. Windows are short (300-600 ms) so the suite stays fast.
BeforeAll {
    # PageOut isolates pages from the LRU lists; pages faulted in on another CPU moments before
    # can still sit in that CPU's lru_add folio batch (up to 31 folios, mm/swap.c), which the
    # caller's lru_add_drain() does not reach, so a few may stay resident.
    $script:LruBatchSlack = 31 * 4KB
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:target = Start-TestTarget -AnonMiB 8 -FileMiB 16 -SharedFileMiB 16 -MemfdMiB 4
    $null = $target.Send('touch-loop file 50')

    function script:Of($Mappings, [string] $Region) {
        $r = $target.Region($Region)
        @($Mappings | Where-Object { $_.Start -lt $r.End -and $_.End -gt $r.Start })
    }

    function script:ReferencedNow([string] $Region) {
        (Get-TargetMapping -Target $target -Region $Region | Measure-Object Referenced -Sum).Sum
    }

    # A second runspace, so that a test can act while a command measures in it.
    $script:runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $ps = [powershell]::Create()
    $ps.Runspace = $runspace
    $null = $ps.AddScript("Import-Module '$env:MADVPS_MODULE'").Invoke()
    $ps.Dispose()

    function script:Start-Measurement([string] $Script) {
        $ps = [powershell]::Create()
        $ps.Runspace = $runspace
        $null = $ps.AddScript($Script)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $handle = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        [pscustomobject]@{ PowerShell = $ps; Handle = $handle; Output = $output }
    }

    function script:Wait-Until([scriptblock] $Condition, [int] $TimeoutMs = 10000) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (& $Condition)) {
            if ($clock.ElapsedMilliseconds -gt $TimeoutMs) { throw "Timed out waiting for: $Condition" }
            Start-Sleep -Milliseconds 20
        }
    }
}

AfterAll {
    if ($script:target) { $script:target.Stop() }
    if ($script:runspace) { $script:runspace.Dispose() }
}

Describe 'Measure-MemoryAccess on a busy and an idle region' {
    BeforeAll {
        $script:m = @(Measure-MemoryAccess -Id $target.Id -Window 400ms -Samples 3)
    }

    It 'reports the touched region referenced in every window and the untouched region idle' {
        $busy = Of $m 'file'
        $busy | Should -HaveCount 1
        $busy[0].PSObject.TypeNames[0] | Should -Be 'MadvPS.MemoryAccess'
        $busy[0] | Should -BeOfType ([MadvPS.MemoryMapping])
        $busy[0].WindowCount | Should -Be 3
        $busy[0].ReferencedBytes | Should -HaveCount 3
        foreach ($bytes in $busy[0].ReferencedBytes) { $bytes | Should -Be 16MB }
        $busy[0].IdleWindows | Should -Be 0
        $busy[0].IdleBytes | Should -Be 0
        $busy[0].WorkingSetBytes | Should -Be 16MB

        $idle = Of $m 'sharedfile'
        $idle | Should -HaveCount 1
        $idle[0].ReferencedBytes | Should -Be @(0, 0, 0)
        $idle[0].IdleWindows | Should -Be 3
        $idle[0].Rss | Should -Be 16MB
        $idle[0].IdleBytes | Should -Be 16MB
        $idle[0].Window | Should -Be ([timespan]::FromMilliseconds(400))
        $idle[0].MappingType | Should -Be 'All'
    }

    It 'carries the fields and identity of the mapping, as Get-MemoryMapping has them' {
        $now = Get-TargetMapping -Target $target -Region 'sharedfile'
        $idle = (Of $m 'sharedfile')[0]
        foreach ($name in 'ProcessId', 'ProcessStartTime', 'BootId', 'Start', 'End', 'Size', 'Path', 'Kind', 'VmFlags', 'Inode', 'Permissions') {
            $idle.$name | Should -Be $now.$name -Because $name
        }
    }

    It 'pipes the idle mappings into PageOut, which reclaims them and leaves the touched region resident' {
        $before = $target.Checksum('sharedfile')
        $target.Resident('sharedfile') | Should -Be 16MB
        $results = @($m | Where-Object IdleBytes -GE 8MB | Invoke-MemoryAdvice -Advice PageOut -PassThru)
        ($results | Where-Object Start -EQ (Of $m 'sharedfile')[0].Start).Status | Should -Be 'Advised'
        $results.Start | Should -Not -Contain (Of $m 'file')[0].Start
        $target.Resident('sharedfile') | Should -BeLessOrEqual $script:LruBatchSlack
        $target.Resident('file') | Should -Be 16MB
        $target.Checksum('sharedfile') | Should -Be $before
    }

    It 'pipes deserialized objects (remoting) into Invoke-MemoryAdvice the same way' {
        $null = $target.Send('touch sharedfile')
        $target.Resident('sharedfile') | Should -Be 16MB
        $remote = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Of $m 'sharedfile')[0], 1))
        $remote.PSObject.TypeNames[0] | Should -Be 'Deserialized.MadvPS.MemoryAccess'
        @($remote.ReferencedBytes) | Should -Be @(0, 0, 0)
        ($remote | Format-Table | Out-String) | Should -Match 'IdleWin'
        $remote | Invoke-MemoryAdvice -Advice PageOut
        $target.Resident('sharedfile') | Should -BeLessOrEqual $script:LruBatchSlack
    }

    It 'shows the per-window figures in its list view' {
        ((Of $m 'file')[0] | Format-List | Out-String) | Should -Match 'ReferencedBytes\s*:\s*16 MiB \| 16 MiB \| 16 MiB'
    }
}

Describe 'Measure-MemoryAccess -Rollup, -Anonymous, -File and -Window' {
    It 'rolls up one working-set estimate per process, with -Window in seconds' {
        $r = @(Get-Process -Id $target.Id, $PID | Measure-MemoryAccess -Rollup -Window 0.3 -Samples 2)
        $r | Should -HaveCount 2
        $r[0].PSObject.TypeNames[0] | Should -Be 'MadvPS.ProcessAccess'
        $t = $r | Where-Object ProcessId -EQ $target.Id
        $t.WindowCount | Should -Be 2
        $t.Window | Should -Be ([timespan]::FromMilliseconds(300))
        $t.ReferencedBytes | Should -HaveCount 2
        $t.WorkingSetBytes | Should -BeGreaterOrEqual 16MB
        $t.WorkingSetBytes | Should -Be ($t.ReferencedBytes | Measure-Object -Maximum).Maximum
        $t.IdleBytes | Should -Be ($t.Rss - $t.WorkingSetBytes)
        $t.Rss | Should -BeGreaterThan 40MB
    }

    It '-Anonymous clears and measures only mappings without a file (clear_refs 2)' {
        $null = $target.Send('touch memfd')
        $a = @(Measure-MemoryAccess -Id $target.Id -Anonymous -Window 300ms)
        $a.Kind | Sort-Object -Unique | ForEach-Object { $_ | Should -BeIn 'Anonymous', 'Heap', 'Stack', 'NamedAnonymous' }
        Of $a 'memfd' | Should -BeNullOrEmpty
        Of $a 'file' | Should -BeNullOrEmpty
        (Of $a 'anon')[0].IdleWindows | Should -Be 1
        (Of $a 'anon')[0].MappingType | Should -Be 'Anonymous'
        # The memfd is shared memory, which clear_refs 2 leaves alone.
        ReferencedNow 'memfd' | Should -Be 4MB
    }

    It '-File clears and measures only mappings with a file, memfds included (clear_refs 3)' {
        $null = $target.Send('touch anon')
        $f = @(Measure-MemoryAccess -Id $target.Id -File -Window 300ms)
        $f.Kind | Sort-Object -Unique | ForEach-Object { $_ | Should -BeIn 'File', 'Memfd', 'SharedMemory' }
        Of $f 'anon' | Should -BeNullOrEmpty
        (Of $f 'memfd')[0].IdleWindows | Should -Be 1
        (Of $f 'file')[0].ReferencedBytes | Should -Be @(16MB)
        ReferencedNow 'anon' | Should -Be 8MB
    }

    It 'changes nothing with -WhatIf' {
        $null = $target.Send('touch memfd')
        Measure-MemoryAccess -Id $target.Id -Window 10s -WhatIf | Should -BeNullOrEmpty
        ReferencedNow 'memfd' | Should -Be 4MB
    }

    It 'takes -Window as <Text>' -ForEach @(
        @{ Text = '10s'; Ms = 10000 }, @{ Text = '500ms'; Ms = 500 }, @{ Text = '2m'; Ms = 120000 },
        @{ Text = '30'; Ms = 30000 }, @{ Text = '00:00:01.5'; Ms = 1500 }
    ) {
        $transform = (Get-Command Measure-MemoryAccess).Parameters['Window'].Attributes |
            Where-Object { $_ -is [System.Management.Automation.ArgumentTransformationAttribute] }
        $transform.Transform($ExecutionContext, $Text) | Should -Be ([timespan]::FromMilliseconds($Ms))
        $transform.Transform($ExecutionContext, 2) | Should -Be ([timespan]::FromSeconds(2))
    }

    It 'writes progress during the windows and completes it' {
        $run = Start-Measurement "Measure-MemoryAccess -Id $($target.Id) -Window 600ms -Samples 2 -Rollup"
        $null = $run.PowerShell.EndInvoke($run.Handle)
        $progress = @($run.PowerShell.Streams.Progress)
        $run.PowerShell.Dispose()
        $run.Output | Should -HaveCount 1
        $progress.Count | Should -BeGreaterOrEqual 4
        ($progress | Where-Object StatusDescription -Like 'Window 1 of 2*') | Should -Not -BeNullOrEmpty
        ($progress | Where-Object StatusDescription -Like 'Window 2 of 2*') | Should -Not -BeNullOrEmpty
        $percent = @($progress | Where-Object RecordType -EQ 'Processing' | ForEach-Object PercentComplete)
        $percent[-1] | Should -BeGreaterThan $percent[0]
        $progress[-1].RecordType | Should -Be 'Completed'
    }
}

Describe 'Measure-MemoryAccess and Ctrl+C' {
    It 'stops at once, keeps the completed windows on the information stream and leaves nothing open' {
        $run = Start-Measurement "Measure-MemoryAccess -Id $($target.Id) -Window 400ms -Samples 20 -InformationVariable windows"
        Wait-Until { $run.PowerShell.Streams.Information.Count -ge 2 }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $run.Output | Should -BeNullOrEmpty
        $windows = @($runspace.SessionStateProxy.GetVariable('windows'))
        $windows.Count | Should -BeGreaterOrEqual 2
        # A stop that sat the run out would have seen all 20 windows through.
        $windows.Count | Should -BeLessThan 20
        $windows.Tags | Sort-Object -Unique | Should -Be 'MadvPS.Window'
        for ($i = 0; $i -lt $windows.Count; $i++) {
            $windows[$i].MessageData.WindowCount | Should -Be ($i + 1)
            $windows[$i].MessageData.ProcessId | Should -Be $target.Id
        }
        $windows[-1].MessageData.WorkingSetBytes | Should -BeGreaterOrEqual 16MB
        $run.PowerShell.Dispose()
        $open = Get-ChildItem "/proc/$PID/fd" | ForEach-Object { $_.LinkTarget } | Where-Object { $_ -like "/proc/$($target.Id)*" }
        $open | Should -BeNullOrEmpty
    }
}

Describe 'Measure-MemoryAccess and bad input' {
    It 'refuses a window of <Window> before it clears anything' -ForEach @(@{ Window = '0' }, @{ Window = '-1s' }, @{ Window = '00:00:00' }) {
        $null = $target.Send('touch memfd')
        { Measure-MemoryAccess -Id $target.Id -Window $Window } | Should -Throw -ErrorId 'WindowNotPositive,MadvPS.Commands.MeasureMemoryAccessCommand'
        ReferencedNow 'memfd' | Should -Be 4MB
    }

    It 'says which forms a window may take' {
        { Measure-MemoryAccess -Id $target.Id -Window 'soon' } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,MadvPS.Commands.MeasureMemoryAccessCommand'
        try { Measure-MemoryAccess -Id $target.Id -Window 'soon' } catch { $_.Exception.Message | Should -Match '500ms' }
    }

    It 'refuses -Anonymous with -File' {
        { Measure-MemoryAccess -Id $target.Id -Anonymous -File -Window 1s } | Should -Throw -ErrorId 'AnonymousWithFile,MadvPS.Commands.MeasureMemoryAccessCommand'
    }

    It 'writes ProcessNotFound for an unknown PID and measures the others' {
        $missing = Get-FreeProcessId
        $out = @(Measure-MemoryAccess -Id $missing, $target.Id -Rollup -Window 300ms -ErrorVariable errs -ErrorAction SilentlyContinue)
        $out | Should -HaveCount 1
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcessNotFound,MadvPS.Commands.MeasureMemoryAccessCommand'
        $errs[0].TargetObject | Should -Be $missing
    }

    It 'gives nothing and no error for a kernel thread' {
        $kthread = Get-KernelThreadId
        if (-not $kthread) { Set-ItResult -Skipped -Because 'no kernel thread is visible in this PID namespace'; return }
        Measure-MemoryAccess -Id $kthread -Rollup -Window 300ms -ErrorVariable errs | Should -BeNullOrEmpty
        $errs | Should -BeNullOrEmpty
    }

    It 'reports a process that exits mid-measurement and writes nothing for it, but measures the others' {
        $short = Start-TestTarget -AnonMiB 1
        try {
            $run = Start-Measurement "Measure-MemoryAccess -Id $($short.Id), $($target.Id) -Window 400ms -Samples 3 -Rollup"
            Wait-Until { $run.PowerShell.Streams.Information.Count -ge 2 }
            $short.Process.StandardInput.WriteLine('exit')
            $short.Process.WaitForExit()
            $null = $run.PowerShell.EndInvoke($run.Handle)
            $errors = @($run.PowerShell.Streams.Error)
            $run.PowerShell.Dispose()
            $run.Output | Should -HaveCount 1
            $run.Output[0].ProcessId | Should -Be $target.Id
            $run.Output[0].WindowCount | Should -Be 3
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'ProcessExited,MadvPS.Commands.MeasureMemoryAccessCommand'
            $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $errors[0].TargetObject | Should -Be $short.Id
            $errors[0].Exception.Message | Should -Match 'exited during the measurement'
        }
        finally { $short.Stop() }
    }

    It 'says when clear_refs may not be written, and clears nothing' {
        if ([Environment]::UserName -ne 'root') {
            Set-ItResult -Skipped -Because 'the test starts a target as daemon and a pwsh without CAP_DAC_OVERRIDE, which needs root'
            return
        }
        # The target program as daemon must be able to read it: the clone may sit in a folder only
        # root can enter (a 0700 temporary folder, /root), so a copy goes to one daemon can read.
        $sandbox = Join-Path '/var/tmp' "madvps-daemon-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory -Path $sandbox | Out-Null
        & chmod 755 $sandbox
        Copy-Item -Recurse (Split-Path $env:MADVPS_TARGET) (Join-Path $sandbox 'target')
        & chmod -R a+rX $sandbox
        $ownTarget = $env:MADVPS_TARGET
        $other = $null
        try {
            $env:MADVPS_TARGET = Join-Path $sandbox "target/$(Split-Path -Leaf $ownTarget)"
            $other = Start-TestTarget -FileMiB 4 -User daemon
        }
        finally {
            $env:MADVPS_TARGET = $ownTarget
            if (-not $other) { Remove-Item -Recurse -Force $sandbox -ErrorAction SilentlyContinue }
        }
        try {
            $file = $other.Region('file')
            $referenced = { (Get-MemoryMapping -Id $other.Id -Address $file.Start).Referenced }
            & $referenced | Should -Be 4MB
            # Root, but without CAP_DAC_OVERRIDE: smaps can be read (CAP_SYS_PTRACE), clear_refs not written.
            $script = "Import-Module '$env:MADVPS_MODULE'; Measure-MemoryAccess -Id $($other.Id) -Window 300ms -ErrorVariable e -ErrorAction SilentlyContinue | Out-Null; " +
                '$e | ForEach-Object { $_.FullyQualifiedErrorId, $_.CategoryInfo.Category, $_.TargetObject, $_.Exception.Message -join ''|'' }'
            $lines = & setpriv --bounding-set -dac_override -- ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script
            $lines | Should -HaveCount 1
            $id, $category, $targetObject, $message = $lines -split '\|', 4
            $id | Should -Be 'ClearRefsAccessDenied,MadvPS.Commands.MeasureMemoryAccessCommand'
            $category | Should -Be 'PermissionDenied'
            $targetObject | Should -Be $other.Id
            $message | Should -Match 'CAP_DAC_OVERRIDE'
            & $referenced | Should -Be 4MB
        }
        finally {
            $other.Stop()
            Remove-Item -Recurse -Force $sandbox -ErrorAction SilentlyContinue
        }
    }
}
