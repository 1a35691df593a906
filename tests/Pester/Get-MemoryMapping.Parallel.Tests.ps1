# Get-MemoryMapping reads several processes at once (one per CPU) and must write them as listed,
# with each process's errors its own. Expected values come from the kernel's files, read here.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    # Targets whose pages the test knows (for the rollups), and sleep processes, whose mappings
    # never change, for the comparisons of whole lists (a .NET target may still map memory).
    $script:targets = @(
        Start-TestTarget -AnonMiB 4 -Mappings 200
        Start-TestTarget -AnonMiB 8 -Mappings 50
        Start-TestTarget -AnonMiB 4 -Mappings 400
    )
    $script:ids = [int[]]$targets.Id
    $script:sleepers = foreach ($i in 1..3) { [Diagnostics.Process]::Start('sleep', '3600') }
    $script:still = [int[]]$sleepers.Id
    # Wait (with a deadline) until each sleep has exec'd: its maps then names /usr/bin/sleep.
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    foreach ($id in $still) {
        while (-not ((Get-Content "/proc/$id/maps" -Raw) -match '/sleep')) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "sleep $id did not start." }
            Start-Sleep -Milliseconds 20
        }
    }

    # The mapping starts of /proc/PID/maps, read by the test itself.
    function Get-MapsStart([int] $ProcessId) {
        foreach ($line in [IO.File]::ReadAllLines("/proc/$ProcessId/maps")) {
            [Convert]::ToUInt64($line.Substring(0, $line.IndexOf('-')), 16)
        }
    }

    # The runs of equal consecutive ProcessIds in the output: the order the processes came out in.
    function Get-Runs($Objects) {
        $runs = [System.Collections.Generic.List[int]]::new()
        foreach ($o in $Objects) { if ($runs.Count -eq 0 -or $runs[$runs.Count - 1] -ne $o.ProcessId) { $runs.Add($o.ProcessId) } }
        $runs.ToArray()
    }

    # A PID above pid_max, which no process can have.
    $script:unknown = [int](Get-Content /proc/sys/kernel/pid_max) + 1
}

AfterAll {
    foreach ($t in $script:targets) { if ($t) { $t.Stop() } }
    foreach ($s in $script:sleepers) { if ($s -and -not $s.HasExited) { $s.Kill(); $s.WaitForExit() } }
}

Describe 'Get-MemoryMapping over several processes' {
    It 'writes every mapping of each process in the order the IDs were listed, as /proc/PID/maps lists them' {
        $order = $still[2], $ids[0], $still[0], $still[1], $still[2]
        $expected = foreach ($id in $order) { , @(Get-MapsStart $id) }
        $all = Get-MemoryMapping -Id $order
        Get-Runs $all | Should -Be $order
        $offset = 0
        for ($i = 0; $i -lt $order.Count; $i++) {
            $part = $all[$offset..($offset + $expected[$i].Count - 1)]
            $part.ProcessId | Select-Object -Unique | Should -Be $order[$i]
            if ($order[$i] -in $still) {
                [ulong[]]$part.Start | Should -Be $expected[$i] -Because "process $($order[$i]), listed as number $i"
            }
            $offset += $part.Count
        }
        $all.Count | Should -Be $offset
    }

    It 'gives each process one rollup, in order, with the kernel''s identity and the pages the target filled' {
        $order = $ids[1], $ids[2], $ids[0]
        $totals = Get-MemoryMapping -Id $order -Rollup
        $totals.ProcessId | Should -Be $order
        foreach ($t in $totals) {
            $target = $targets | Where-Object Id -eq $t.ProcessId
            # Field 22 of /proc/PID/stat, after the parenthesised command.
            $stat = (Get-Content -Raw "/proc/$($t.ProcessId)/stat")
            $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
            $t.ProcessStartTime | Should -Be ([ulong]$fields[19])
            $t.Rss | Should -BeGreaterOrEqual $target.Region('anon').Length
        }
    }

    It 'reads the same from a parallel read as from one process at a time' {
        $parallel = Get-MemoryMapping -Id $still
        $sequential = foreach ($id in $still) { Get-MemoryMapping -Id $id }
        $parallel.Count | Should -Be $sequential.Count
        # A sleeping process's mappings and pages do not change.
        ($parallel | ForEach-Object { '{0} {1:x} {2} {3} {4} {5}' -f $_.ProcessId, $_.Start, $_.Size, $_.Path, $_.Rss, $_.VmFlags }) |
            Should -Be ($sequential | ForEach-Object { '{0} {1:x} {2} {3} {4} {5}' -f $_.ProcessId, $_.Start, $_.Size, $_.Path, $_.Rss, $_.VmFlags })
        (Get-MemoryMapping -Id $still -Rollup | ForEach-Object { "{0} {1}" -f $_.ProcessId, $_.Rss }) |
            Should -Be ($still | ForEach-Object { Get-MemoryMapping -Id $_ -Rollup } | ForEach-Object { "{0} {1}" -f $_.ProcessId, $_.Rss })
    }

    It 'keeps the order of processes that come down the pipeline' {
        $order = $ids[2], $ids[1], $ids[0], $ids[1]
        $processes = foreach ($id in $order) { Get-Process -Id $id }
        ($processes | Get-MemoryMapping -Rollup).ProcessId | Should -Be $order
        Get-Runs ($processes | Get-MemoryMapping) | Should -Be $order
    }

    It 'reports an unknown PID in the middle once and reads the processes around it' {
        $all = Get-MemoryMapping -Id $still[0], $unknown, $ids[1], $still[1] -ErrorVariable failures -ErrorAction SilentlyContinue
        Get-Runs $all | Should -Be $still[0], $ids[1], $still[1]
        [ulong[]]($all | Where-Object ProcessId -eq $still[0]).Start | Should -Be (Get-MapsStart $still[0])
        [ulong[]]($all | Where-Object ProcessId -eq $still[1]).Start | Should -Be (Get-MapsStart $still[1])
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'ProcessNotFound,MadvPS.Commands.GetMemoryMappingCommand'
        $failures[0].TargetObject | Should -Be $unknown
    }

    It 'reports a process that exited before its turn and reads the others' {
        $gone = Start-TestTarget -AnonMiB 1
        $goneProcess = Get-Process -Id $gone.Id
        $gone.Stop()
        $goneProcess.WaitForExit()
        $processes = (Get-Process -Id $ids[0]), $goneProcess, (Get-Process -Id $ids[2])
        $totals = $processes | Get-MemoryMapping -Rollup -ErrorVariable failures -ErrorAction SilentlyContinue
        $totals.ProcessId | Should -Be $ids[0], $ids[2]
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'ProcessNotFound,MadvPS.Commands.GetMemoryMappingCommand'
        # A Process binds to -Id by property name, so the PID is the target.
        $failures[0].TargetObject | Should -Be $gone.Id
    }

    It 'lists the processes a wildcard finds in PID order' {
        $name = (Get-Process -Id $ids[0]).ProcessName
        $found = Get-MemoryMapping -Name "$name*" -Rollup -ErrorAction SilentlyContinue
        $pids = [int[]]$found.ProcessId
        $pids | Should -Be ($pids | Sort-Object)
        foreach ($id in $ids) { $pids | Should -Contain $id }
    }
}
