# Invoke-MemoryReclaim on the project's target program, with a swap file of the test's own.
# Run under `flock /tmp/madvps-host.lock` (it turns swap on and off). Residency is read by the
# test from /proc/PID/pagemap with its own decoding (bit 63: present in RAM); faults from
# /proc/PID/stat fields 10 and 12. mincore is not used: it counts a paged-out anonymous page
# that is still in the swap cache as resident.
BeforeDiscovery {
    $script:isRoot = (id -u) -eq 0
}

BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:hadSwap = [long]((Get-Content /proc/meminfo | Where-Object { $_ -like 'SwapTotal:*' }) -replace '\D', '') -gt 0

    function script:Get-PresentBytes([int] $Id, [ulong] $Start, [long] $Length) {
        $pages = [int]($Length / 4096)
        $buffer = [byte[]]::new($pages * 8)
        $stream = [IO.File]::OpenRead("/proc/$Id/pagemap")
        try {
            $stream.Position = [long]($Start / 4096) * 8
            $read = 0
            while ($read -lt $buffer.Length) {
                $n = $stream.Read($buffer, $read, $buffer.Length - $read)
                if ($n -le 0) { break }
                $read += $n
            }
        }
        finally { $stream.Dispose() }
        $present = 0
        for ($i = 0; $i -lt $pages; $i++) {
            if (($buffer[$i * 8 + 7] -band 0x80) -ne 0) { $present++ }
        }
        [long]$present * 4096
    }

    function script:Get-Faults([int] $Id) {
        $stat = Get-Content -Raw "/proc/$Id/stat"
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        [long]$fields[10 - 3] + [long]$fields[12 - 3]
    }

    # The cmdlet in a runspace of its own, so the test can act on the target while it runs, or stop it as Ctrl+C does.
    function script:Start-Reclaim([hashtable] $Parameters) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($module, $p)
                Import-Module $module
                Invoke-MemoryReclaim @p
            }).AddArgument($env:MADVPS_MODULE).AddArgument($Parameters)
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }

    function script:Wait-Until([scriptblock] $Condition, [int] $Seconds = 30) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { return $false }
            Start-Sleep -Milliseconds 100
        }
        $true
    }
}

Describe 'Invoke-MemoryReclaim without swap' -Skip:(-not $isRoot) {
    It 'leaves anonymous memory alone, with one warning, and still takes file-backed memory' {
        if ($hadSwap) { Set-ItResult -Skipped -Because 'the host has swap; this case needs a host without any' ; return }
        $t = Start-TestTarget -AnonMiB 32 -FileMiB 16
        try {
            $anon = $t.Region('anon'); $file = $t.Region('file')
            $r = Invoke-MemoryReclaim -Id $t.Id -Window 500ms -Duration 20s -MaxPressure 100 -WarningVariable w -WarningAction SilentlyContinue
            @($w).Count | Should -Be 1
            "$w" | Should -Match 'swap'
            Get-PresentBytes $t.Id $anon.Start $anon.Length | Should -Be $anon.Length
            Get-PresentBytes $t.Id $file.Start $file.Length | Should -BeLessThan 2MB
            $r.StopReason | Should -Be 'Converged'
        }
        finally { $t.Stop() }
    }
}

Describe 'Invoke-MemoryReclaim' -Skip:(-not $isRoot) {
    BeforeAll {
        $script:swap = Enable-TestSwap -MiB 768
        if (-not $swap) { throw 'A swap file could not be made: these tests need root and a file system that allows swap files.' }
    }

    AfterAll {
        Disable-TestSwap $script:swap
    }

    It 'takes the cold mappings, anonymous and file, and leaves the hot one resident' {
        $t = Start-TestTarget -AnonMiB 32 -FileMiB 32 -HugeMiB 64
        try {
            $sums = @{ anon = $t.Checksum('anon'); file = $t.Checksum('file'); huge = $t.Checksum('huge') }
            $anon = $t.Region('anon'); $file = $t.Region('file'); $hot = $t.Region('huge')
            $t.Send('touch-loop huge 20') | Out-Null
            Start-Sleep -Milliseconds 500
            $faults = Get-Faults $t.Id
            $r = Invoke-MemoryReclaim -Id $t.Id -Window 1s -Duration 60s -MaxPressure 100
            $taken = (Get-Faults $t.Id) - $faults

            $r.StopReason | Should -Be 'Converged'
            Get-PresentBytes $t.Id $anon.Start $anon.Length | Should -BeLessThan 2MB
            Get-PresentBytes $t.Id $file.Start $file.Length | Should -BeLessThan 2MB
            Get-PresentBytes $t.Id $hot.Start $hot.Length | Should -Be $hot.Length
            $taken | Should -BeLessOrEqual (0.05 * $hot.Length / 4096) -Because 'the hot region must not be paged out and faulted back'
            $r.SwapAfter | Should -BeGreaterThan ($r.SwapBefore + 30MB)
            $r.BytesKeptOut | Should -BeGreaterThan 60MB
            $t.Send('stop-loop') | Out-Null
            foreach ($name in 'anon', 'file', 'huge') { $t.Checksum($name) | Should -Be $sums[$name] }
        }
        finally { $t.Stop() }
    }

    It 'takes the cold half of one mapping and leaves its hot half' {
        $t = Start-TestTarget -AnonMiB 64
        try {
            $anon = $t.Region('anon')
            $half = [long]($anon.Length / 2)
            $t.Send("touch-loop-part anon 0 $half 20") | Out-Null
            $r = Invoke-MemoryReclaim -Id $t.Id -Window 1s -Duration 60s -MaxPressure 100
            $r.StopReason | Should -Be 'Converged'
            Get-PresentBytes $t.Id ($anon.Start + [ulong]$half) $half | Should -BeLessOrEqual (0.10 * $half)
            Get-PresentBytes $t.Id $anon.Start $half | Should -BeGreaterOrEqual (0.95 * $half)
        }
        finally { $t.Stop() }
    }

    It 'stops advising a cold region within two steps of it turning hot' {
        $t = Start-TestTarget -AnonMiB 32 -HugeMiB 16
        try {
            $anon = $t.Region('anon')
            $t.Send('touch-loop huge 20') | Out-Null
            # A low rate, so that the loop is still at work on the region when it turns hot.
            $rate = 4MB
            $run = Start-Reclaim @{ Id = $t.Id; Window = '1s'; Duration = '16s'; MaxBytesPerSecond = $rate; MaxPressure = 100 }
            Wait-Until { (Get-PresentBytes $t.Id $anon.Start $anon.Length) -le $anon.Length / 2 } | Should -BeTrue
            $out = $anon.Length - (Get-PresentBytes $t.Id $anon.Start $anon.Length)
            $faults = Get-Faults $t.Id
            $t.Send('touch-loop anon 20') | Out-Null
            $result = $run.PowerShell.EndInvoke($run.Handle)
            $taken = (Get-Faults $t.Id) - $faults
            # Once for what was out when it turned, plus at most two steps of advice before the loop learns.
            $steps = [Math]::Ceiling(1.5 * $rate * 2 / 4096)
            $taken | Should -BeLessOrEqual ($out / 4096 + $steps)
            $result.StopReason | Should -BeIn 'Duration', 'Converged'
            Get-PresentBytes $t.Id $anon.Start $anon.Length | Should -Be $anon.Length
        }
        finally { $run.PowerShell.Dispose(); $t.Stop() }
    }

    It 'stops with reason Pressure when paging out a busy file region makes tasks wait on memory' {
        $t = Start-TestTarget -FileMiB 64
        try {
            # PSI counts a refault only of a page that was in the working set when it was evicted
            # (measured here: a file region's first PageOut and touch stall 0 us, each later one about
            # 15 ms per 64 MiB). So the region has been through reclaim once before, as a service's
            # data that the kernel evicted earlier has.
            $t.Send('touch file') | Out-Null
            Set-ProcessMadvise -Id $t.Id -MappingType File -Advice PageOut | Out-Null
            $t.Send('touch file') | Out-Null
            # Touched every 800 ms: a 300 ms window often sees it idle, so the loop pages it out,
            # and the next touch reads it back from disk while the loop watches.
            $t.Send('touch-loop file 800') | Out-Null
            $r = Invoke-MemoryReclaim -Id $t.Id -Window 300ms -Duration 60s -MaxPressure 1 -PassThru
            $result = $r | Where-Object { $_ -is [MadvPS.ReclaimResult] }
            $result.StopReason | Should -Be 'Pressure'
            $result.PeakPressure | Should -BeGreaterThan 1
            $last = @($r | Where-Object { $_ -is [MadvPS.ReclaimStep] })[-1]
            $last.Action | Should -Be 'Pressure'
            $last.Detail | Should -Match 'MaxPressure'
        }
        finally { $t.Stop() }
    }

    It 'reports a target that exits as Exited, and goes on with the others without an error' {
        $a = Start-TestTarget -AnonMiB 32
        $b = Start-TestTarget -AnonMiB 32
        try {
            $run = Start-Reclaim @{ Id = $a.Id, $b.Id; Window = '1s'; Duration = '6s'; MaxBytesPerSecond = 2MB; MaxPressure = 100 }
            Start-Sleep -Seconds 2.5
            $a.Stop()
            $results = $run.PowerShell.EndInvoke($run.Handle)
            $run.PowerShell.Streams.Error | Should -BeNullOrEmpty
            ($results | Where-Object ProcessId -EQ $a.Id).StopReason | Should -Be 'Exited'
            ($results | Where-Object ProcessId -EQ $b.Id).StopReason | Should -Be 'Duration'
            ($results | Where-Object ProcessId -EQ $b.Id).BytesAdvised | Should -BeGreaterThan 0
        }
        finally { $run.PowerShell.Dispose(); $b.Stop() }
    }

    It 'stops between calls on Ctrl+C, leaves the target running, and the steps so far are on the information stream' {
        $t = Start-TestTarget -AnonMiB 64
        try {
            $run = Start-Reclaim @{ Id = $t.Id; Window = '500ms'; Duration = '60s'; MaxBytesPerSecond = 4MB; MaxPressure = 100 }
            Wait-Until { @($run.PowerShell.Streams.Information).Count -ge 2 } | Should -BeTrue
            $run.PowerShell.Stop()
            $steps = @($run.PowerShell.Streams.Information | Where-Object Tags -Contains 'MadvPS.ReclaimStep' | ForEach-Object MessageData)
            $steps.Count | Should -BeGreaterOrEqual 2
            $steps[0].PSObject.TypeNames[0] | Should -Be 'MadvPS.ReclaimStep'
            $steps[0].ProcessId | Should -Be $t.Id
            Get-ProcessState $t.Id | Should -Not -Be 'T'
            $t.Send('checksum anon') | Should -Match '^checksum '
        }
        finally { $run.PowerShell.Dispose(); $t.Stop() }
    }

    It 'writes ProcessNotFound for a PID no process has, and nothing for a kernel thread' {
        $gone = Get-FreeProcessId
        { Invoke-MemoryReclaim -Id $gone -Window 200ms -Duration 1s -ErrorAction Stop } | Should -Throw -ErrorId 'ProcessNotFound,MadvPS.Commands.InvokeMemoryReclaimCommand'
        $kthread = Get-KernelThreadId
        if ($null -eq $kthread) { Set-ItResult -Skipped -Because 'this PID namespace shows no kernel thread'; return }
        $kthreadd = Invoke-MemoryReclaim -Id $kthread -Window 200ms -Duration 1s -Verbose 4>&1
        @($kthreadd | Where-Object { $_ -is [MadvPS.ReclaimResult] }).Count | Should -Be 0
        "$kthreadd" | Should -Match 'no address space'
    }

    It 'with -WhatIf shows the first step''s plan and changes nothing' {
        $t = Start-TestTarget -AnonMiB 32
        try {
            $anon = $t.Region('anon')
            $out = & ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command "Import-Module '$env:MADVPS_MODULE'; Invoke-MemoryReclaim -Id $($t.Id) -Window 200ms -WhatIf"
            ($out -join ' ') | Should -Match 'What if: .*PageOut at most .* of the memory that stayed idle'
            Get-PresentBytes $t.Id $anon.Start $anon.Length | Should -Be $anon.Length
            (Get-TargetMapping -Target $t -Region anon).Referenced | Should -Be $anon.Length -Because 'nothing was cleared'
        }
        finally { $t.Stop() }
    }
}
