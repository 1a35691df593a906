# The README's first screen, done as a new user would, outside the clone: pwsh as a .NET tool,
# build.ps1 Install, tools/Install-Pester.ps1 and a runbook of one's own; the same pwsh behind a
# host's sshd; the demo's plain text in a log; the per-process summary; sizes for one's own
# tables. Everything installed goes under $TestDrive: HOME is redirected there, so the user's
# profile, module folders and tool folders are not touched. The one thing shared is the NuGet
# package cache (NUGET_PACKAGES), which the build has already filled with the pinned PowerShell
# and Pester: it is only read, so nothing is downloaded (the tests stay on loopback). Starts sshd:
# under flock /tmp/madvps-host.lock.
BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'SshEndpoint.psm1') -Force
    $script:clone = Split-Path (Split-Path $PSScriptRoot)
    $script:version = (Import-PowerShellDataFile $env:MADVPS_MODULE).ModuleVersion
    $script:pwshVersion = (Get-Content -Raw (Join-Path $clone 'dotnet-tools.json') | ConvertFrom-Json).tools.powershell.version
    $script:pesterVersion = (([xml](Get-Content -Raw (Join-Path $clone 'build/Pester.proj'))).Project.ItemGroup.PackageDownload | Where-Object Include -EQ 'Pester').Version.Trim('[', ']')
    $script:packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }

    $script:userHome = Join-Path $TestDrive 'home'
    $script:work = Join-Path $TestDrive 'work'
    New-Item -ItemType Directory -Path $userHome, $work | Out-Null
    # A new user's environment: a home of its own, no XDG overrides, PowerShell's default module path.
    $script:userEnvironment = @{
        HOME = $userHome; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null; PSModulePath = $null
        DOTNET_CLI_HOME = $null; NUGET_PACKAGES = $packages; DOTNET_CLI_TELEMETRY_OPTOUT = '1'; DOTNET_NOLOGO = '1'; POWERSHELL_TELEMETRY_OPTOUT = '1'
    }

    # Runs a program in $work (outside the clone) with the new user's environment.
    function script:Invoke-AsUser {
        param([Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList = @(), [hashtable] $Environment = $userEnvironment)
        Invoke-Captured -FilePath $FilePath -ArgumentList $ArgumentList -WorkingDirectory $work -Environment $Environment
    }

    # What `dotnet tool install` reads from: a folder with the PowerShell package, as a host gets it.
    $script:feed = Join-Path $TestDrive 'feed'
    New-Item -ItemType Directory -Path $feed | Out-Null
    Copy-Item (Join-Path $packages "powershell/$pwshVersion/powershell.$pwshVersion.nupkg") $feed
    $script:toolPwsh = Join-Path $userHome '.dotnet/tools/pwsh'
}

Describe 'The README, outside the clone' {
    It 'installs the pinned pwsh as a global .NET tool that runs from any folder' {
        $r = Invoke-AsUser dotnet @('tool', 'install', '--global', 'PowerShell', '--version', $pwshVersion, '--source', $feed)
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $toolPwsh | Should -Exist
        $v = Invoke-AsUser $toolPwsh @('-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString(); (Get-Location).Path')
        $v.ExitCode | Should -Be 0 -Because $v.Text
        ($v.Output -split "`n")[0].Trim() | Should -Be $pwshVersion
        ($v.Output -split "`n")[1].Trim() | Should -Be $work
    }

    It 'build.ps1 Install puts the module where Import-Module MadvPS finds it in any new session' {
        $r = Invoke-AsUser $toolPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $clone 'build.ps1'), 'Install', '-NoBuild')
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $s = Invoke-AsUser $toolPwsh @('-NoProfile', '-NonInteractive', '-Command', 'Import-Module MadvPS; (Get-Module MadvPS).ModuleBase; (Get-MemoryMapping -Id $PID -Rollup).Rss')
        $s.ExitCode | Should -Be 0 -Because $s.Text
        $lines = $s.Output -split "`n" | ForEach-Object Trim | Where-Object { $_ }
        $lines[0] | Should -Be (Join-Path $userHome ".local/share/powershell/Modules/MadvPS/$version")
        [long]$lines[1] | Should -BeGreaterThan 0
    }

    It 'tools/Install-Pester.ps1 lets a runbook of ones own import Pester and MadvPS by name and pass' {
        $r = Invoke-AsUser $toolPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $clone 'tools/Install-Pester.ps1'))
        $r.ExitCode | Should -Be 0 -Because $r.Text
        Join-Path $userHome ".local/share/powershell/Modules/Pester/$pesterVersion/Pester.psd1" | Should -Exist
        Set-Content -Path (Join-Path $work 'Mine.Tests.ps1') -Value @'
BeforeAll { Import-Module MadvPS }
Describe 'my service' {
    It 'has file-backed memory to reclaim' {
        $totals = Get-MemoryMapping -Id $PID -Rollup
        $totals.PssFile | Should -BeGreaterThan 0
        Set-ProcessMadvise -Id $PID -Advice Cold -MappingType File | Should -Not -BeNullOrEmpty
    }
}
'@
        $run = Invoke-AsUser $toolPwsh @('-NoProfile', '-NonInteractive', '-Command',
            'Import-Module Pester; $r = Invoke-Pester -Path ./Mine.Tests.ps1 -PassThru -Output None; "$((Get-Module Pester).Version) $($r.PassedCount) $($r.FailedCount)"')
        $run.ExitCode | Should -Be 0 -Because $run.Text
        $run.Output.Trim() | Should -Be "$pesterVersion 1 0"
    }

    It 'serves remoting from the pwsh of a tools folder, as a host''s Subsystem line names it' {
        $reason = Install-SshServer
        if ($reason) { Set-ItResult -Skipped -Because "sshd cannot run here: $reason"; return }
        # The host's steps of the README: the .NET tool into a folder, from the package copied there.
        $toolPath = Join-Path $TestDrive 'opt/pwsh'
        $r = Invoke-AsUser dotnet @('tool', 'install', '--tool-path', $toolPath, 'PowerShell', '--version', $pwshVersion, '--source', $feed)
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $modules = Join-Path $TestDrive 'modules'
        New-Item -ItemType Directory -Path (Join-Path $modules "MadvPS/$version") -Force | Out-Null
        Copy-Item (Join-Path (Split-Path $env:MADVPS_MODULE) '*') (Join-Path $modules "MadvPS/$version") -Recurse
        $endpoint = Start-SshEndpoint -ModuleDirectory $modules -PwshPath (Join-Path $toolPath 'pwsh')
        try {
            $c = Get-SshConnection $endpoint
            $remote = Invoke-Command @c -ScriptBlock {
                [pscustomobject]@{ Version = $PSVersionTable.PSVersion.ToString(); PSHome = $PSHOME; Rss = (Get-MemoryMapping -Id $PID -Rollup).Rss }
            }
            $remote.Version | Should -Be $pwshVersion
            $remote.PSHome | Should -BeLike "$toolPath/*"
            $remote.Rss | Should -BeGreaterThan 0
        }
        finally { Stop-SshEndpoint $endpoint }
    }
}

Describe 'The demo in a log' {
    It 'prints plain text, no ANSI escapes, when its output is redirected' {
        $environment = @{ PSModulePath = (Split-Path (Split-Path $env:MADVPS_MODULE)) + [IO.Path]::PathSeparator + $env:PSModulePath }
        $r = Invoke-AsUser ([Environment]::ProcessPath) @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', (Join-Path $clone 'tests/Demo.ps1'), '-Target', $env:MADVPS_TARGET) -Environment $environment
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Output | Should -Match 'RSS before and after'
        $r.Output | Should -Match 'PID\s+Size\s+Rss'
        $r.Output + $r.Error | Should -Not -Match "`e"
    }
}

Describe 'The summary of a process (-Rollup)' {
    BeforeAll {
        $script:target = Start-TestTarget -AnonMiB 4 -FileMiB 4
    }
    AfterAll {
        if ($script:target) { $script:target.Stop() }
    }

    It 'carries the command line and the user, as ps shows them' {
        $totals = Get-MemoryMapping -Id $target.Id -Rollup
        $totals.CommandLine | Should -BeExactly (ps -ww -o args= -p $target.Id).Trim()
        $totals.CommandLine | Should -Match 'MadvPS\.Target\.dll'
        $totals.UserName | Should -BeExactly (ps -o user= -p $target.Id).Trim()
        $totals.UserId | Should -Be ([int](ps -o ruid= -p $target.Id).Trim())
    }

    It 'splits Rss as the kernel does in /proc/PID/status: anonymous, file, shared memory' {
        function Get-StatusKiB([string] $key) {
            [long]((Get-Content "/proc/$($target.Id)/status" | Where-Object { $_ -like "${key}:*" }) -replace '\D', '') * 1KB
        }
        $before = @{ RssAnon = Get-StatusKiB RssAnon; RssFile = Get-StatusKiB RssFile; RssShmem = Get-StatusKiB RssShmem }
        $totals = Get-MemoryMapping -Id $target.Id -Rollup
        $after = @{ RssAnon = Get-StatusKiB RssAnon; RssFile = Get-StatusKiB RssFile; RssShmem = Get-StatusKiB RssShmem }
        foreach ($key in 'RssAnon', 'RssFile', 'RssShmem') {
            # The idle target's counters can move between the reads (a runtime thread allocating):
            # the value must lie between the kernel's own before and after.
            $totals.$key | Should -BeGreaterOrEqual ([math]::Min($before[$key], $after[$key])) -Because $key
            $totals.$key | Should -BeLessOrEqual ([math]::Max($before[$key], $after[$key])) -Because $key
        }
        $totals.RssAnon | Should -BeGreaterOrEqual 4MB
        $totals.RssFile | Should -BeGreaterOrEqual 4MB
    }

    It 'keeps the fields over remoting' {
        $totals = Get-MemoryMapping -Id $target.Id -Rollup
        $remote = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($totals))
        foreach ($p in 'CommandLine', 'UserName', 'UserId', 'RssAnon', 'RssFile', 'RssShmem') { $remote.$p | Should -Be $totals.$p }
    }
}

Describe 'Sizes in ones own tables' {
    It 'shows numbers in binary units, at most 9 characters' -ForEach @(
        @{ Bytes = 0; Text = '0 B' }, @{ Bytes = 1023; Text = '1023 B' }, @{ Bytes = 1024; Text = '1 KiB' }, @{ Bytes = 1536; Text = '1.5 KiB' }
        @{ Bytes = 100663296; Text = '96 MiB' }, @{ Bytes = 999.9 * 1MB; Text = '999.9 MiB' }, @{ Bytes = 1000 * 1KB; Text = '1 MiB' }
        @{ Bytes = -3 * 1MB; Text = '-3 MiB' }, @{ Bytes = 5TB; Text = '5 TiB' }
    ) {
        Format-MemorySize -Bytes ([long]$Bytes) | Should -BeExactly $Text
        [long]$Bytes | Format-MemorySize | Should -BeExactly $Text
    }

    It 'makes calculated properties that show the same for live, deserialized and Import-Csv objects, which keep their numbers' {
        $live = Get-MemoryMapping -Id $PID | Sort-Object Rss -Descending | Select-Object -First 3
        $live[0].Rss | Should -BeOfType [long]
        $remote = $live | ForEach-Object { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($_)) }
        $csv = $live | ConvertTo-Csv | ConvertFrom-Csv
        $rss, $swap = Format-MemorySize -Property Rss, Swap
        $rss | Should -BeOfType [hashtable]
        $expected = $live | ForEach-Object { '{0} {1}' -f (Format-MemorySize $_.Rss), (Format-MemorySize $_.Swap) }
        foreach ($set in $live, $remote, $csv) {
            $set | Select-Object $rss, $swap | ForEach-Object { '{0} {1}' -f $_.Rss, $_.Swap } | Should -Be $expected
        }
        $table = $remote | Format-Table Kind, $rss, Path | Out-String -Width 200
        $table | Should -Match "\b$([regex]::Escape((Format-MemorySize $live[0].Rss)))\b"
        ([pscustomobject]@{ Dirty = $null } | Select-Object (Format-MemorySize -Property Dirty)).Dirty | Should -Be '-'
    }
}
