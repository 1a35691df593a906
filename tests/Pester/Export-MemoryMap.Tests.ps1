# Export-MemoryMap: the page is loaded in a real browser (Debian's chromium-headless-shell,
# installed when missing), its DOM and screenshot checked against what the test reads from
# /proc itself. The swap test needs root and a swap file of its own: run this file under
# flock /tmp/madvps-host.lock (the whole suite is).
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Browser/Browser.psm1') -Force
    $script:browser = Get-HeadlessBrowser
    $script:dir = Join-Path ([IO.Path]::GetTempPath()) "madvps-map-test-$PID"
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    $script:target = Start-TestTarget -AnonMiB 16 -FileMiB 8 -MemfdMiB 4

    function script:Titles([string] $Dom) {
        # The hover text of every block, bar and cell: the SVG <title> elements, decoded.
        @([regex]::Matches($Dom, '<title>([^<]*)</title>') | ForEach-Object { [System.Net.WebUtility]::HtmlDecode($_.Groups[1].Value) })
    }
    function script:HtmlAttribute([string] $Dom, [string] $Name) {
        $m = [regex]::Match($Dom, "<html[^>]*\s$Name=""([^""]*)""")
        if ($m.Success) { [System.Net.WebUtility]::HtmlDecode($m.Groups[1].Value) } else { $null }
    }
    function script:SmapsTotals([int] $Id) {
        # Rss and Swap summed over /proc/PID/smaps, read here, not by the module.
        $rss = 0L; $swap = 0L
        foreach ($line in [IO.File]::ReadLines("/proc/$Id/smaps")) {
            if ($line -match '^Rss:\s+(\d+) kB') { $rss += [long]$Matches[1] * 1KB }
            elseif ($line -match '^Swap:\s+(\d+) kB') { $swap += [long]$Matches[1] * 1KB }
        }
        [pscustomobject]@{ Rss = $rss; Swap = $swap }
    }
    function script:Deserialized($Objects) {
        # As Invoke-Command brings them back: PSSerializer at depth 1.
        foreach ($o in $Objects) { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($o, 1)) }
    }
    function script:WithoutTimestamp([string] $Path) { (Get-Content -Raw $Path) -replace '"generated":"[^"]*"', '' }
}

AfterAll {
    if ($script:target) { $script:target.Stop() }
    if ($script:dir) { Remove-Item -Recurse -Force -LiteralPath $dir -ErrorAction SilentlyContinue }
}

Describe 'Export-MemoryMap in a browser' {
    BeforeAll {
        $script:page = Join-Path $dir 'live.html'
        $script:mappings = Get-MemoryMapping -Id $target.Id
        $mappings | Export-MemoryMap -Path $page
        $script:load = Invoke-HeadlessBrowser -Path $page
        $script:titles = Titles $load.Dom
    }

    It 'finds a script error when there is one (the check below can fail)' {
        $broken = Join-Path $dir 'broken.html'
        Set-Content -LiteralPath $broken -Value '<!DOCTYPE html><html><body><script>notDefined();</script></body></html>'
        (Invoke-HeadlessBrowser -Path $broken).Console -match 'Uncaught' | Should -Not -BeNullOrEmpty
    }

    It 'loads with no script error and the script runs to its end' {
        $load.ExitCode | Should -Be 0
        $load.Console -match 'Uncaught|Error' | Should -BeNullOrEmpty
        HtmlAttribute $load.Dom 'data-errors' | Should -BeNullOrEmpty
        HtmlAttribute $load.Dom 'data-render-ms' | Should -Not -BeNullOrEmpty
    }

    It 'fetches nothing: no src, href or url() leaves the file' {
        $html = Get-Content -Raw $page
        $html | Should -Not -Match '\bsrc\s*='
        $html | Should -Not -Match 'https?://(?!www\.w3\.org/2000/svg)'
        $html | Should -Not -Match 'url\('
        $html | Should -Match "default-src 'none'"
    }

    It 'names every file the target has mapped, as /proc/PID/maps lists them' {
        $paths = Get-Content "/proc/$($target.Id)/maps" | ForEach-Object {
            $f = $_ -split '\s+', 6
            if ($f.Count -eq 6 -and $f[5].StartsWith('/')) { $f[5] -replace ' \(deleted\)$', '' }
        } | Sort-Object -Unique
        $paths | Should -Not -BeNullOrEmpty
        $text = $titles -join "`n"
        foreach ($p in $paths) { $text.Contains($p) | Should -BeTrue -Because "$p is mapped" }
    }

    It 'gives the path, range and exact size of a block on hover (its SVG title)' {
        $file = $target.Region('file')
        $line = Get-Content "/proc/$($target.Id)/maps" | Where-Object { $_ -match ('^{0:x}-' -f $file.Start) }
        $line | Should -HaveCount 1
        $f = $line -split '\s+', 6
        $range = $f[0] -split '-'
        $size = [Convert]::ToUInt64($range[1], 16) - [Convert]::ToUInt64($range[0], 16)
        $hover = $titles | Where-Object { $_.StartsWith($f[5] + "`n") -and $_.Contains("$($range[0])-$($range[1])") }
        $hover | Should -HaveCount 1
        $hover | Should -Match "Size [^\n]* \($size bytes\)"
        $hover | Should -Match 'Resident '
    }

    It 'takes a screenshot that shows the kinds in their legend colours' {
        $png = Join-Path $dir 'live.png'
        (Invoke-HeadlessBrowser -Path $page -Screenshot $png).ExitCode | Should -Be 0
        $image = Read-PngImage $png
        $image.Width | Should -Be 1280
        $legend = [regex]::Matches($load.Dom, 'background:(#[0-9a-f]{6})"></span>([^<]*)<') | ForEach-Object { @{ Colour = $_.Groups[1].Value; Text = $_.Groups[2].Value } }
        $file = ($legend | Where-Object Text -EQ 'file (resident)').Colour
        $anon = ($legend | Where-Object Text -EQ 'anonymous (resident)').Colour
        $file | Should -Not -BeNullOrEmpty
        $image.Count(0, 0, $image.Width, $image.Height, @($file), 2) | Should -BeGreaterThan 1000
        $image.Count(0, 0, $image.Width, $image.Height, @($anon), 2) | Should -BeGreaterThan 1000
    }

    It 'draws the same page from deserialized objects as from live ones' {
        $rollup = Get-MemoryMapping -Id $target.Id -Rollup
        $access = Measure-MemoryAccess -Id $target.Id -Window 200ms -Samples 2
        $anon = $target.Region('anon')
        $half = [ulong]($anon.Length / 2)
        # Get-MemoryPage's runs and summaries, made by hand with their type names.
        $run1 = [pscustomobject]@{ PSTypeName = 'MadvPS.MemoryPageRun'; ProcessId = $target.Id; ProcessName = 'dotnet'; ProcessStartTime = $mappings[0].ProcessStartTime; BootId = $mappings[0].BootId
            Start = $anon.Start; End = $anon.Start + $half; Size = $half; State = 'Resident'; Path = ''; Kind = 'Anonymous'; Exclusive = $true; FilePage = $false; Huge = $false; ZeroPage = $false }
        $run2 = [pscustomobject]@{ PSTypeName = 'MadvPS.MemoryPageRun'; ProcessId = $target.Id; ProcessName = 'dotnet'; ProcessStartTime = $mappings[0].ProcessStartTime; BootId = $mappings[0].BootId
            Start = $anon.Start + $half; End = $anon.End; Size = $half; State = 'Swapped'; Path = ''; Kind = 'Anonymous'; Exclusive = $true; FilePage = $false; Huge = $false; ZeroPage = $false }
        $advice = Get-TargetMapping $target 'file' | Invoke-MemoryAdvice -Advice Cold -PassThru
        $whole = Set-ProcessMadvise -Id $target.Id -Advice Cold -MappingType File
        $all = @($mappings) + @($rollup) + @($access) + @($run1, $run2) + @($advice) + @($whole)
        $live = Join-Path $dir 'all-live.html'
        $remote = Join-Path $dir 'all-deserialized.html'
        $all | Export-MemoryMap -Path $live
        $d = @(Deserialized $all)
        $d[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.MadvPS.MemoryMapping'
        $d | Export-MemoryMap -Path $remote
        WithoutTimestamp $remote | Should -BeExactly (WithoutTimestamp $live)

        $dom = (Invoke-HeadlessBrowser -Path $live).Dom
        $t = Titles $dom
        # The page runs outrank smaps for the anonymous region: half resident, half swapped.
        $hover = $t | Where-Object { $_ -match ('^{0:x}-' -f $anon.Start) }
        $hover | Should -HaveCount 1
        $hover | Should -Match "swapped $([regex]::Escape([MadvPS.Display]::Bytes($half)))"
        $hover | Should -Match 'from page data'
        $dom | Should -Match 'Access over time'
        $dom | Should -Match 'Before and after advice'
        ($t | Where-Object { $_ -match '^window 2: ' }) | Should -Not -BeNullOrEmpty
    }

    It 'draws the same page from CSV rows (Export-Csv -IncludeTypeInformation) as from live mappings' {
        $csv = Join-Path $dir 'mappings.csv'
        $mappings | Export-Csv -LiteralPath $csv -IncludeTypeInformation
        $live = Join-Path $dir 'csv-live.html'
        $fromCsv = Join-Path $dir 'csv.html'
        $mappings | Export-MemoryMap -Path $live
        Import-Csv -LiteralPath $csv | Export-MemoryMap -Path $fromCsv
        WithoutTimestamp $fromCsv | Should -BeExactly (WithoutTimestamp $live)
    }

    It 'draws a ReclaimResult (issue 17) before and after' {
        $r = [pscustomobject]@{ PSTypeName = 'MadvPS.ReclaimResult'; ProcessId = $target.Id; ProcessName = 'dotnet'
            RssBefore = [long]40MB; RssAfter = [long]10MB; SwapBefore = [long]0; SwapAfter = [long]30MB; BytesAdvised = [long]30MB; BytesRefaulted = [long]1MB }
        $p = Join-Path $dir 'reclaim.html'
        @($mappings) + @($r) | Export-MemoryMap -Path $p
        $dom = (Invoke-HeadlessBrowser -Path $p).Dom
        $dom | Should -Match '>ReclaimResult<'
        (Titles $dom) | Should -Contain "Rss after: 10 MiB ($(10MB) bytes)"
        (Titles $dom) | Should -Contain "Swap after: 30 MiB ($(30MB) bytes)"
    }

    It 'draws one section per host, with a sortable summary table' {
        $a = @(Deserialized $mappings) | ForEach-Object { $_ | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'alpha' -PassThru }
        $b = @(Deserialized $mappings) | ForEach-Object { $_ | Add-Member -NotePropertyName PSComputerName -NotePropertyValue 'beta' -PassThru }
        $p = Join-Path $dir 'hosts.html'
        @($a) + @($b) | Export-MemoryMap -Path $p -Title 'Two hosts'
        $dom = (Invoke-HeadlessBrowser -Path $p).Dom
        $dom | Should -Match '<title>Two hosts</title>'
        [regex]::Matches($dom, '<section ').Count | Should -Be 2
        $dom | Should -Match ' on alpha</h2>'
        $dom | Should -Match ' on beta</h2>'
        $dom | Should -Match '<table class="sortable" id="madvps-summary">'
    }

    It 'escapes a path that holds markup, quotes, a newline and an unpaired surrogate' {
        $evil = "/tmp/a</script><b id=`"inj`">x</b>'&`n" + [char]0xD800 + 'end'
        $m = [pscustomobject]@{ PSTypeName = 'MadvPS.MemoryMapping'; ProcessId = 4242; ProcessName = 'evil<i>'; Start = [ulong]0x10000; End = [ulong]0x20000; Size = 65536
            Kind = 'File'; Path = $evil; Permissions = 'r--p'; Rss = 4096; Swap = 0 }
        $p = Join-Path $dir 'evil.html'
        $m | Export-MemoryMap -Path $p -Title '</title><script>alert(1)</script>'
        $load = Invoke-HeadlessBrowser -Path $p
        $load.Console -match 'Uncaught' | Should -BeNullOrEmpty
        $load.Dom | Should -Not -Match '<b id="inj"'
        $load.Dom | Should -Not -Match '<i>'
        $expected = $evil.Replace([string][char]0xD800, [string][char]0xFFFD)
        (Titles $load.Dom | Where-Object { $_.StartsWith($expected + "`n10000-20000  File`n") }) | Should -HaveCount 1
    }
}

Describe 'Resident and swapped memory in proportion' {
    BeforeAll {
        $script:swap = Enable-TestSwap -MiB 256
        if ($swap) { $script:t = Start-TestTarget -AnonMiB 96 }
    }
    AfterAll {
        if ($swap) { $t.Stop() }
        Disable-TestSwap $swap
    }

    It 'colours resident and swapped areas in the proportion of the bytes /proc/PID/smaps shows' {
        if (-not $swap) { Set-ItResult -Skipped -Because 'a swap file could not be set up (needs root and a file system that takes swap files)' }
        $anon = $t.Region('anon')
        # Page out two thirds of the region: tens of MiB swapped next to the runtime's resident memory.
        $out = [pscustomobject]@{ ProcessId = $t.Id; Start = $anon.Start; Size = [long](64MB) }
        $result = $out | Invoke-MemoryAdvice -Advice PageOut -PassThru
        $result.Status | Should -Be 'Advised'
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ((SmapsTotals $t.Id).Swap -lt 60MB -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        $m = Get-MemoryMapping -Id $t.Id
        $kernel = SmapsTotals $t.Id
        $kernel.Swap | Should -BeGreaterOrEqual 60MB
        $p = Join-Path $dir 'swap.html'
        $script:swapPage = $p
        @($m) + @($result) | Export-MemoryMap -Path $p
        $dom = (Invoke-HeadlessBrowser -Path $p).Dom
        $section = [regex]::Match($dom, '<section [^>]*>')
        $attr = { param($name) [regex]::Match($section.Value, "$name=""([^""]*)""").Groups[1].Value }
        $rect = [int[]]((& $attr 'data-bars-rect') -split ',')
        $expected = $kernel.Rss / $kernel.Swap

        # The areas the page computed.
        $ratio = [double](& $attr 'data-area-resident') / [double](& $attr 'data-area-swapped')
        [Math]::Abs($ratio - $expected) / $expected | Should -BeLessOrEqual 0.2

        # The pixels of the screenshot, in the colours its legend gives.
        $png = Join-Path $dir 'swap.png'
        $height = [Math]::Max(3000, $rect[1] + $rect[3] + 50)
        Invoke-HeadlessBrowser -Path $p -Screenshot $png -Height $height | Out-Null
        $legend = [regex]::Matches($dom, 'background:(#[0-9a-f]{6})"></span>([^<]*)<') | ForEach-Object { @{ Colour = $_.Groups[1].Value; Text = $_.Groups[2].Value } }
        $residentColours = @($legend | Where-Object { $_.Text.EndsWith('(resident)') } | ForEach-Object Colour)
        $swappedColours = @($legend | Where-Object Text -EQ 'swapped' | ForEach-Object Colour)
        $residentColours.Count | Should -Be 6
        $swappedColours.Count | Should -Be 1
        $image = Read-PngImage $png
        $resident = $image.Count($rect[0], $rect[1], $rect[2], $rect[3], $residentColours, 3)
        $swapped = $image.Count($rect[0], $rect[1], $rect[2], $rect[3], $swappedColours, 3)
        $swapped | Should -BeGreaterThan 100
        [Math]::Abs($resident / $swapped - $expected) / $expected | Should -BeLessOrEqual 0.2

        # The advice is drawn before and after.
        $dom | Should -Match 'Before and after advice'
        $dom | Should -Match '>PageOut<'
    }
}

Describe 'Export-MemoryMap as Export-Csv and Out-File behave' {
    It 'writes an error for an object it cannot draw, naming its type, and draws the rest' {
        $m = Get-TargetMapping $target 'file'
        $p = Join-Path $dir 'bad-input.html'
        $out = @('text', 42, $m) | Export-MemoryMap -Path $p -ErrorVariable errs -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $errs | Should -HaveCount 2
        $errs[0].FullyQualifiedErrorId | Should -Be 'InputNotDrawable,MadvPS.Commands.ExportMemoryMapCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidType'
        $errs[0].Exception.Message | Should -Match 'System\.String'
        $errs[1].Exception.Message | Should -Match 'System\.Int32'
        $errs[0].TargetObject | Should -Be 'text'
        $t = Titles (Invoke-HeadlessBrowser -Path $p).Dom
        ($t | Where-Object { $_.StartsWith($m.Path + "`n") }) | Should -Not -BeNullOrEmpty
    }

    It 'writes an error for a MadvPS object that lacks what it needs' {
        $broken = [pscustomobject]@{ PSTypeName = 'Deserialized.MadvPS.MemoryMapping'; ProcessId = 1 }
        $p = Join-Path $dir 'broken-input.html'
        $broken | Export-MemoryMap -Path $p -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs | Should -HaveCount 1
        $errs[0].FullyQualifiedErrorId | Should -Be 'InputNotReadable,MadvPS.Commands.ExportMemoryMapCommand'
        $errs[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $errs[0].Exception.Message | Should -Match 'Start'
        Test-Path $p | Should -BeTrue
    }

    It 'says clearly when the path cannot be written' {
        $m = Get-TargetMapping $target 'file'
        { $m | Export-MemoryMap -Path /sys/madvps-map.html } | Should -Throw -ErrorId 'FileNotWritable,MadvPS.Commands.ExportMemoryMapCommand'
        { $m | Export-MemoryMap -Path (Join-Path $dir 'no/such/dir/map.html') } | Should -Throw -ErrorId 'DirectoryNotFound,MadvPS.Commands.ExportMemoryMapCommand'
        { $m | Export-MemoryMap -Path $dir } | Should -Throw -ErrorId 'PathIsDirectory,MadvPS.Commands.ExportMemoryMapCommand'
    }

    It 'keeps an existing file with -NoClobber and overwrites it without' {
        $m = Get-TargetMapping $target 'file'
        $p = Join-Path $dir 'existing.html'
        Set-Content -LiteralPath $p -Value 'keep me'
        { $m | Export-MemoryMap -Path $p -NoClobber } | Should -Throw -ErrorId 'NoClobber,MadvPS.Commands.ExportMemoryMapCommand'
        (Get-Content -Raw $p).Trim() | Should -Be 'keep me'
        $m | Export-MemoryMap -Path $p
        Get-Content -Raw $p | Should -Match '^<!DOCTYPE html>'
    }

    It 'returns the file with -PassThru, and writes nothing with -WhatIf' {
        $m = Get-TargetMapping $target 'file'
        $p = Join-Path $dir 'passthru.html'
        $f = $m | Export-MemoryMap -LiteralPath $p -PassThru
        $f | Should -BeOfType [System.IO.FileInfo]
        $f.FullName | Should -Be $p
        $f.Length | Should -Be (Get-Item $p).Length
        $w = Join-Path $dir 'whatif.html'
        $m | Export-MemoryMap -Path $w -WhatIf
        Test-Path $w | Should -BeFalse
    }
}

Describe 'A process with 60,000 mappings' {
    BeforeAll {
        $script:many = if ([int](Get-Content /proc/sys/vm/max_map_count) -ge 61000) { Start-TestTarget -Mappings 60000 }
    }
    AfterAll { if ($script:many) { $many.Stop() } }

    It 'is drawn in at most 2 MiB, merged blocks saying how many mappings they hold' {
        if (-not $many) { Set-ItResult -Skipped -Because 'vm.max_map_count is below 61000' }
        $p = Join-Path $dir 'many.html'
        $count = @(Get-Content "/proc/$($many.Id)/maps").Count
        $count | Should -BeGreaterOrEqual 60000
        # In a runspace of its own, to see the progress records a large input gets.
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:MADVPS_MODULE'; Get-MemoryMapping -Id $($many.Id) | Export-MemoryMap -Path '$p'").Invoke()
        $ps.HadErrors | Should -BeFalse
        @($ps.Streams.Progress | Where-Object Activity -EQ 'Export-MemoryMap').Count | Should -BeGreaterThan 1
        $ps.Dispose()
        (Get-Item $p).Length | Should -BeLessOrEqual 2MB
        $load = Invoke-HeadlessBrowser -Path $p
        $load.Console -match 'Uncaught' | Should -BeNullOrEmpty
        HtmlAttribute $load.Dom 'data-render-ms' | Should -Not -BeNullOrEmpty
        $blocks = Titles $load.Dom | Where-Object { $_ -match '(?m)^[0-9a-f]+-[0-9a-f]+  \w+' }
        $held = $blocks | ForEach-Object { if ($_ -match ', (\d+) mappings merged') { [int]$Matches[1] } else { 1 } } | Measure-Object -Sum
        $blocks.Count | Should -BeLessOrEqual 2000
        ($blocks | Where-Object { $_ -match 'mappings merged' }) | Should -Not -BeNullOrEmpty
        # Every mapping the module read is in exactly one block (the count may move by the runtime's own few between the two reads).
        [Math]::Abs($held.Sum - $count) | Should -BeLessOrEqual 50
    }
}
