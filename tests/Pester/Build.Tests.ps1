# build.ps1's own help: Get-Help ./build.ps1 -Full describes every task and every parameter, and
# -NoBuild runs a test without building (out/MadvPS is left as it is).
BeforeDiscovery {
    $script:buildScript = Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'build.ps1'
    $script:parameterCases = (Get-Command $buildScript).Parameters.Values |
        Where-Object { $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters } |
        ForEach-Object { @{ Name = $_.Name } }
    $script:taskCases = (Get-Command $buildScript).Parameters['Task'].Attributes.ValidValues | ForEach-Object { @{ Task = $_ } }
}

BeforeAll {
    $script:buildScript = Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'build.ps1'
    $script:help = Get-Help $buildScript -Full
}

Describe 'Get-Help build.ps1' {
    It 'has a synopsis and examples' {
        $help.Synopsis | Should -Match 'MadvPS'
        @($help.examples.example).Count | Should -BeGreaterOrEqual 3
    }

    It 'describes the parameter <Name>' -TestCases $parameterCases {
        param($Name)
        $text = ($help.parameters.parameter | Where-Object name -EQ $Name).description.Text -join ' '
        $text.Trim().Length | Should -BeGreaterThan 20 -Because "-$Name needs a description in build.ps1's comment-based help"
    }

    It 'describes the task <Task>' -TestCases $taskCases {
        param($Task)
        ($help.description.Text -join "`n") | Should -Match "(?m)^\s*$Task\s{2,}\S"
    }
}

Describe 'build.ps1 Test -NoBuild' {
    It 'runs the named Pester file against out/MadvPS without rebuilding it' {
        $dll = Join-Path (Split-Path $env:MADVPS_MODULE) 'MadvPS.dll'
        $before = (Get-Item $dll).LastWriteTimeUtc
        $probe = Join-Path $TestDrive 'Probe.Tests.ps1'
        Set-Content $probe "Describe 'probe' { It 'passes' { 1 | Should -Be 1 } }"
        $info = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        foreach ($a in @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $buildScript, 'Test', '-NoBuild', '-PesterPath', $probe)) { $info.ArgumentList.Add($a) }
        $info.RedirectStandardOutput = $true
        $info.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($info)
        $output = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $process.ExitCode | Should -Be 0 -Because $output
        ($output -split "`n" | Where-Object { $_ -match '^\d+ passed, \d+ failed' } | Select-Object -Last 1).Trim() | Should -Be '1 passed, 0 failed, 0 skipped'
        $output | Should -Not -Match 'xunit:'
        (Get-Item $dll).LastWriteTimeUtc | Should -Be $before
    }
}
