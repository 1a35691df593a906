# docs/examples/Invoke-FleetReclaim.ps1 against a real fleet of three "hosts": two loopback
# addresses answered by a private sshd (SshEndpoint.psm1) and one where nothing listens. Runs
# sshd: under flock /tmp/madvps-host.lock.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'SshEndpoint.psm1') -Force
    $script:runbook = Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'docs/examples/Invoke-FleetReclaim.ps1'

    # The target program under a name of its own (a symlink to dotnet: the kernel's comm is the
    # name it was started by), so that -ProcessName matches it and nothing else on a shared host.
    $script:targetName = "mvfleet$([guid]::NewGuid().ToString('n').Substring(0, 7))"
    $link = Join-Path $TestDrive $targetName
    New-Item -ItemType SymbolicLink -Path $link -Target ([Environment]::ProcessPath) | Out-Null
    $info = [System.Diagnostics.ProcessStartInfo]::new($link)
    foreach ($a in @($env:MADVPS_TARGET, '--file-mib', '8', '--dir', $TestDrive)) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardInput = $true
    $info.RedirectStandardOutput = $true
    $info.UseShellExecute = $false
    $script:target = [System.Diagnostics.Process]::Start($info)
    while (($line = $target.StandardOutput.ReadLine()) -ne 'ready') {
        if ($null -eq $line) { throw 'The target program exited before it was ready.' }
    }
    # Resident bytes of the target's private file mapping, as mincore(2) in the target sees them.
    function script:Get-FileResident {
        $target.StandardInput.WriteLine('resident file')
        $target.StandardInput.Flush()
        [long](($target.StandardOutput.ReadLine() -split ' ')[1])
    }

    $script:skipReason = Install-SshServer
    if (-not $skipReason) {
        $script:endpoint = Start-SshEndpoint -ModuleDirectory (Split-Path (Split-Path $env:MADVPS_MODULE)) -ListenAddress 127.0.0.1, 127.0.0.2
        $c = Get-SshConnection $endpoint
        $script:fleet = @{ UserName = $c.UserName; KeyFilePath = $c.KeyFilePath; Options = $c.Options; Port = $c.Port; ConnectingTimeout = 60000 }
        # 127.0.0.3 is loopback too, but the sshd listens on .1 and .2 only: nothing answers there.
        $script:hosts = '127.0.0.1', '127.0.0.2', '127.0.0.3'
    }
}

AfterAll {
    if ($script:endpoint) { Stop-SshEndpoint $script:endpoint }
    if ($script:target -and -not $target.HasExited) {
        $target.StandardInput.WriteLine('exit')
        $target.StandardInput.Flush()
        if (-not $target.WaitForExit(5000)) { $target.Kill() }
    }
}

Describe 'Invoke-FleetReclaim.ps1' {
    It 'returns one row per host in the order given: two reached, one not, with the error naming it' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $before = Get-FileResident
        $before | Should -Be 8MB
        # Both addresses reach this machine, so whichever session runs first pages the target out
        # and the other finds it paged out already (Invoke-Command does not promise the order).
        $rows = @(& $runbook -HostName $hosts -ProcessName $targetName @fleet -ThrottleLimit 1 2>$null)
        $rows.Host | Should -Be $hosts
        $rows.Reached | Should -Be @($true, $true, $false)

        $first, $second, $down = $rows
        $first.Error | Should -BeNullOrEmpty
        $first.Processes | Should -Be 1
        # The target's file region was advised and left memory (the kernel's own count), on one
        # of the two reached hosts.
        $first.Advised | Should -BeGreaterOrEqual 8MB
        $second.Advised | Should -BeGreaterOrEqual 8MB
        ($first.Reclaimed + $second.Reclaimed) | Should -BeGreaterThan 0
        $first.Duration | Should -BeOfType [timespan]
        $first.Duration | Should -BeGreaterThan ([timespan]::Zero)
        $second.Processes | Should -Be 1
        $second.Error | Should -BeNullOrEmpty
        # PageOut isolates pages from the LRU lists; a few faulted in moments before can sit in
        # another CPU's lru_add folio batch (up to 31 folios, mm/swap.c) and stay.
        Get-FileResident | Should -BeLessOrEqual (31 * 4KB)

        $down.Processes | Should -Be 0
        $down.Reclaimed | Should -Be 0
        $down.Duration | Should -BeNullOrEmpty
        $down.Error | Should -Match "^127\.0\.0\.3:$($fleet.Port): not reached: nothing listens on port $($fleet.Port) \(connection refused\)"
    }

    It 'lists the hosts where no process matched, with 0 processes and nothing reclaimed' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $rows = @(& $runbook -HostName $hosts -ProcessName "$targetName-none" @fleet 2>$null)
        $rows.Host | Should -Be $hosts
        foreach ($r in $rows[0..1]) {
            $r.Reached | Should -BeTrue
            $r.Processes | Should -Be 0
            $r.Reclaimed | Should -Be 0
            $r.Error | Should -BeNullOrEmpty
        }
        $rows[2].Reached | Should -BeFalse
    }

    It 'previews with -WhatIf: counts the processes on each host and advises nothing' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $target.StandardInput.WriteLine('touch file')
        $target.StandardInput.Flush()
        $null = $target.StandardOutput.ReadLine()
        Get-FileResident | Should -Be 8MB
        $rows = @(& $runbook -HostName '127.0.0.1', "127.0.0.1:$($fleet.Port)" -ProcessName $targetName @fleet -WhatIf 2>$null)
        # The same host twice (once with its port) is reached once.
        $rows | Should -HaveCount 1
        $rows[0].Processes | Should -Be 1
        $rows[0].Reclaimed | Should -Be 0
        Get-FileResident | Should -Be 8MB
    }

    It 'takes a host list that is shown per host with sizes readable, as its help shows' {
        if ($skipReason) { Set-ItResult -Skipped -Because "sshd cannot run here: $skipReason"; return }
        $text = & $runbook -HostName $hosts -ProcessName $targetName @fleet 2>$null |
            Format-Table Host, Reached, Processes, (Format-MemorySize -Property Reclaimed), Duration, Error | Out-String -Width 200
        foreach ($h in $hosts) { $text | Should -Match ([regex]::Escape($h)) }
        $text | Should -Match '\d+(\.\d)? (B|KiB|MiB)'
    }
}
