# What the changing cmdlets do when told not to (-WhatIf, a No to -Confirm), when stopped part way
# (Ctrl+C, which is PowerShell.Stop() for a hosted pipeline), and when one process of several
# fails. Each test measures the kernel's side: process_madvise calls counted by the module's
# interop, the target's resident pages (mincore) and the page cache (cachestat).
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force

    $script:adviceCounter = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc').GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')
    function Get-AdviceCalls { [long]$script:adviceCounter.GetValue($null) }

    # PageOut isolates pages from the LRU lists; pages faulted in on another CPU moments before can
    # still sit in that CPU's lru_add folio batch (up to 31 folios, mm/swap.c), which the caller's
    # lru_add_drain() does not reach, so up to that many may stay resident.
    $script:LruBatchSlack = 31 * 4KB

    # A pipeline in a runspace of its own, run asynchronously so that the test can stop it.
    $script:runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $ps = [powershell]::Create($runspace)
    $null = $ps.AddScript("Import-Module '$env:MADVPS_MODULE'").Invoke()
    $ps.Dispose()
    function Start-Pipeline([string] $Script) {
        $ps = [powershell]::Create($runspace)
        $null = $ps.AddScript($Script)
        $output = [Management.Automation.PSDataCollection[psobject]]::new()
        $handle = $ps.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
        [pscustomobject]@{ PowerShell = $ps; Handle = $handle; Output = $output }
    }
    function Wait-Until([scriptblock] $Condition, [int] $TimeoutMs = 30000) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not (& $Condition)) {
            if ($clock.ElapsedMilliseconds -gt $TimeoutMs) { throw "Timed out waiting for: $Condition" }
            Start-Sleep -Milliseconds 1
        }
    }
    # Descriptors this pwsh holds on a path (or under it).
    function Get-OpenUnder([string] $Prefix) {
        @(Get-ChildItem "/proc/$PID/fd" -ErrorAction SilentlyContinue | ForEach-Object { $_.LinkTarget } | Where-Object { $_ -like "$Prefix*" })
    }

    $script:pwshDll = Join-Path $PSHOME 'pwsh.dll'
    $script:dotnet = [Environment]::ProcessPath
}

AfterAll {
    if ($script:runspace) { $runspace.Dispose() }
}

Describe 'Set-ProcessMadvise told not to' {
    BeforeAll {
        $script:t = Start-TestTarget -FileMiB 8
    }
    AfterAll { if ($script:t) { $t.Stop() } }

    It '-WhatIf sends nothing and the pages stay' {
        $null = $t.Send('touch file')
        $t.Resident('file') | Should -Be 8MB
        $calls = Get-AdviceCalls
        $out = Set-ProcessMadvise -Id $t.Id -Advice PageOut -MappingType File -WhatIf
        $out | Should -BeNullOrEmpty
        (Get-AdviceCalls) - $calls | Should -Be 0
        $t.Resident('file') | Should -Be 8MB
    }

    It '-Confirm answered <Answer> sends <Expected>' -ForEach @(
        @{ Answer = 'N'; Expected = 'nothing' }
        @{ Answer = 'Y'; Expected = 'the advice (the control: the prompt is answered and a call shows)' }
    ) {
        $null = $t.Send('touch file')
        $t.Resident('file') | Should -Be 8MB
        # A pwsh that reads the answer from its standard input, as an operator would type it.
        $script = "Import-Module '$env:MADVPS_MODULE'; " +
            '$c = [MadvPS.MemoryMapping].Assembly.GetType(''MadvPS.Interop.Libc'').GetProperty(''ProcessMadviseCalls'', [Reflection.BindingFlags]''NonPublic,Static''); ' +
            "`$r = @(Set-ProcessMadvise -Id $($t.Id) -Advice PageOut -MappingType File -Confirm); 'RESULT ' + `$c.GetValue(`$null) + ' ' + `$r.Count"
        $info = [Diagnostics.ProcessStartInfo]::new($dotnet)
        foreach ($word in @($pwshDll, '-NoProfile', '-Command', $script)) { $info.ArgumentList.Add($word) }
        $info.RedirectStandardInput = $true
        $info.RedirectStandardOutput = $true
        $p = [Diagnostics.Process]::Start($info)
        $p.StandardInput.WriteLine($Answer)
        $p.StandardInput.Close()
        $text = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit()
        $p.Dispose()
        $line = ($text -split "`n" | Where-Object { $_ -like 'RESULT *' } | Select-Object -Last 1)
        $line | Should -Not -BeNullOrEmpty -Because $text
        $calls, $results = ($line -split ' ')[1, 2]
        if ($Answer -eq 'N') {
            [int]$calls | Should -Be 0
            [int]$results | Should -Be 0
            $t.Resident('file') | Should -Be 8MB
        }
        else {
            [int]$calls | Should -BeGreaterThan 0
            [int]$results | Should -Be 1
            $t.Resident('file') | Should -BeLessOrEqual $LruBatchSlack
        }
    }
}

Describe 'Set-ProcessMadvise when one process of several fails' {
    BeforeAll {
        $script:a = Start-TestTarget -FileMiB 4
        $script:b = Start-TestTarget -FileMiB 4
        # A zombie: sh forks a short sleep and becomes a long one that never reaps it.
        $info = [Diagnostics.ProcessStartInfo]::new('sh')
        foreach ($word in '-c', 'sleep 0.2 & exec sleep 60') { $info.ArgumentList.Add($word) }
        $script:parent = [Diagnostics.Process]::Start($info)
    }
    AfterAll {
        foreach ($x in $script:a, $script:b) { if ($x) { $x.Stop() } }
        if ($script:parent) { $parent.Kill(); $parent.WaitForExit(); $parent.Dispose() }
    }

    It 'writes one error for it and still advises the others, before and after it' {
        $script:zombie = 0
        Wait-Until { $kids = "$(Get-Content "/proc/$($parent.Id)/task/$($parent.Id)/children" -Raw -ErrorAction SilentlyContinue)".Trim(); if ($kids) { $script:zombie = [int]($kids -split ' ')[0] }; $script:zombie -and (Get-ProcessState $script:zombie) -eq 'Z' }
        $zombie = $script:zombie
        foreach ($x in $a, $b) { $null = $x.Send('touch file'); $x.Resident('file') | Should -Be 4MB }
        $calls = Get-AdviceCalls
        $results = @(Set-ProcessMadvise -Id $a.Id, $zombie, $b.Id -Advice PageOut -MappingType File -ErrorVariable errs -ErrorAction SilentlyContinue)
        $errs | Should -HaveCount 1
        "$($errs[0].TargetObject)" | Should -Be "$zombie"
        $results.ProcessId | Should -Be @($a.Id, $b.Id)
        (Get-AdviceCalls) - $calls | Should -BeGreaterOrEqual 2
        $a.Resident('file') | Should -BeLessOrEqual $LruBatchSlack
        $b.Resident('file') | Should -BeLessOrEqual $LruBatchSlack
    }
}

Describe 'Ctrl+C during Invoke-MemoryAdvice' {
    BeforeAll {
        $script:big = Start-TestTarget -AnonMiB 8 -Mappings 40000
    }
    AfterAll { if ($script:big) { $big.Stop() } }

    It 'stops between calls, sends no more, and leaves the target whole and nothing open' {
        $checksum = $big.Checksum('anon')
        $start = Get-AdviceCalls
        # One mapping at a time, so that the run makes thousands of calls.
        $run = Start-Pipeline "Get-MemoryMapping -Id $($big.Id) | Invoke-MemoryAdvice -Advice Cold -PassThru"
        Wait-Until { (Get-AdviceCalls) - $start -ge 1 -or $run.Handle.IsCompleted }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $sent = (Get-AdviceCalls) - $start
        Start-Sleep -Milliseconds 200
        (Get-AdviceCalls) - $start | Should -Be $sent -Because 'no call is made after the stop'
        $mappings = @(Get-MemoryMapping -Id $big.Id).Count
        $mappings | Should -BeGreaterThan 20000
        $run.Output.Count | Should -BeLessThan $mappings -Because 'the run was cut short'
        $run.PowerShell.Dispose()
        Get-OpenUnder "/proc/$($big.Id)/" | Should -BeNullOrEmpty
        Get-ProcessState $big.Id | Should -Not -Be 'T'
        $big.Checksum('anon') | Should -Be $checksum
    }
}

Describe 'Ctrl+C during the file cmdlets' {
    BeforeAll {
        # On /var/tmp: a disk on most hosts, where the page cache is what the cmdlets measure.
        $script:tree = Join-Path '/var/tmp' "madvps-pester-stop-$([guid]::NewGuid().ToString('N'))"
        $buffer = [byte[]]::new(64KB)
        foreach ($d in 0..9) {
            $dir = New-Item -ItemType Directory -Path (Join-Path $tree "d$d") -Force
            foreach ($f in 0..199) { [IO.File]::WriteAllBytes((Join-Path $dir.FullName "f$f.bin"), $buffer) }
        }
        $script:total = 2000
    }
    AfterAll {
        if ($script:tree -and (Test-Path $tree)) { Remove-Item -Recurse -Force $tree }
    }

    It 'Get-FileCache -Recurse stops part way and leaves no directory open' {
        $run = Start-Pipeline "Get-FileCache -Path '$tree' -Recurse"
        Wait-Until { $run.Output.Count -ge 1 -or $run.Handle.IsCompleted }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $seen = $run.Output.Count
        $run.PowerShell.Dispose()
        $seen | Should -BeLessThan $total -Because 'the walk was cut short'
        Get-OpenUnder $tree | Should -BeNullOrEmpty
    }

    It 'Invoke-FileAdvice stops part way: the files after the stop keep their cache' {
        $files = @(Get-ChildItem -Path $tree -Recurse -File | Sort-Object FullName)
        foreach ($f in $files) { $null = [IO.File]::ReadAllBytes($f.FullName) }
        $before = @{}
        foreach ($c in @($files | Get-FileCache)) { $before[$c.Path] = $c.Cached }
        $list = Join-Path $tree 'list.txt'
        $files.FullName | Set-Content $list
        $run = Start-Pipeline "Get-Content '$list' | Invoke-FileAdvice -Advice DontNeed -Flush -PassThru"
        Wait-Until { $run.Output.Count -ge 1 -or $run.Handle.IsCompleted }
        $run.PowerShell.Stop()
        $run.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
        $advised = @($run.Output | ForEach-Object Path)
        $run.PowerShell.Dispose()
        $advised.Count | Should -BeGreaterOrEqual 1
        $advised.Count | Should -BeLessThan $files.Count -Because 'the run was cut short'
        # The files go in list order: those reported are the first ones, and their cache is gone.
        $advised | Should -Be @($files[0..($advised.Count - 1)].FullName)
        foreach ($path in $advised) { (Get-FileCache $path).Cached | Should -BeLessOrEqual 4KB -Because "$path was advised DontNeed" }
        # The file in hand when the stop came may have been advised without a result; every file
        # after it keeps what it had: the kernel saw no advice for them.
        $untouched = @($files[($advised.Count + 1)..($files.Count - 1)])
        $changed = @($untouched | Get-FileCache | Where-Object { $_.Cached -ne $before[$_.Path] })
        Write-Host "    stopped after $($advised.Count) of $($files.Count) files were advised; $($changed.Count) of the $($untouched.Count) after them changed"
        $changed.Path | Should -BeNullOrEmpty
        Get-OpenUnder $tree | Should -BeNullOrEmpty
    }
}
