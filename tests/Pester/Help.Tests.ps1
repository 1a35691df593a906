# Help as an operator meets it: Get-Help in this fresh pwsh, the docs/*.md pages in sync with the
# code, en-US/ current with docs/, and every example run as written. Generic over every exported cmdlet.
BeforeDiscovery {
    Import-Module $env:MADVPS_MODULE -Force
    $script:cmdletCases = @(Get-Command -Module MadvPS -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'HelpSync.psm1') -Force
    $script:exampleCases = foreach ($c in $cmdletCases) {
        $page = Join-Path $root "docs/$($c.Name).md"
        if (Test-Path $page) {
            $n = 0
            foreach ($e in (Read-HelpMarkdown $page).Examples) { @{ Name = $c.Name; Title = $e.Title; Code = $e.Code; N = ++$n } }
        }
    }
}

BeforeAll {
    Import-Module $env:MADVPS_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'HelpSync.psm1') -Force
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:docs = Join-Path $root 'docs'
}

Describe 'Get-Help <Name>' -ForEach $cmdletCases {
    BeforeAll {
        $script:command = Get-Command $Name
        $script:help = Get-Help $Name -Full
    }

    It 'comes from the module''s MAML, with a real synopsis and description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        # Without a help file Get-Help makes the synopsis from the syntax.
        $help.Synopsis | Should -Not -Match ([regex]::Escape("$Name [")) -Because 'a synopsis written from the syntax means no MAML was found'
        $help.Synopsis | Should -Not -Match '\{\{'
        ($help.description.Text -join "`n").Length | Should -BeGreaterThan 80
    }

    It 'describes every parameter the cmdlet shows' {
        foreach ($p in Get-DocumentedParameter $command) {
            $ph = Get-Help $Name -Parameter $p.Name
            ($ph.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) needs a description"
        }
    }

    It 'has at least three examples, each with code and an explanation' {
        $examples = @((Get-Help $Name -Examples).examples.example)
        $examples.Count | Should -BeGreaterOrEqual 3
        foreach ($e in $examples) {
            $e.code | Should -Match $Name
            ($e.remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
        (Get-Help $Name -Examples | Out-String) | Should -Match 'Example 3'
    }

    It 'names each output type' {
        $returns = @($help.returnValues.returnValue.type.name)
        foreach ($t in $command.OutputType) { $returns | Should -Contain $t.Name }
    }

    It 'renders -Full without errors' {
        $text = Get-Help $Name -Full | Out-String -Width 120
        $text | Should -Match 'PARAMETERS'
        $text | Should -Match 'OUTPUTS'
    }
}

Describe 'about_MadvPS' {
    It 'is found by Get-Help with its short description' {
        $text = Get-Help about_MadvPS | Out-String
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'CAP_SYS_NICE'
        (Get-Help about_Madv*).Name | Should -Contain 'about_MadvPS'
    }

    It 'finds every about topic of docs/ with Get-Help' {
        foreach ($page in Get-ChildItem (Join-Path $PSScriptRoot '../../docs/about_*.md')) {
            $name = $page.BaseName
            (Get-Help $name | Out-String) | Should -Match 'SHORT DESCRIPTION' -Because "$name is in docs/"
        }
    }
}

Describe 'docs/<Name>.md agrees with the code' -ForEach $cmdletCases {
    It 'has a page' {
        Join-Path $docs "$Name.md" | Should -Exist
    }

    It 'has every parameter, set, type, mandatory flag, position and pipeline binding the code has' {
        $diff = @(Compare-HelpWithCommand -Command (Get-Command $Name) -Page (Read-HelpMarkdown (Join-Path $docs "$Name.md")))
        $diff -join "`n" | Should -BeNullOrEmpty
    }

    It 'is listed on the module page docs/MadvPS.md' {
        Get-Content -Raw (Join-Path $docs 'MadvPS.md') | Should -Match ([regex]::Escape("### [$Name]($Name.md)"))
    }
}

Describe 'The sync check' {
    # It must fail when help and code disagree; each case changes one thing in a copy of a page.
    BeforeAll {
        $script:page = { Read-HelpMarkdown (Join-Path $docs 'Get-MemoryMapping.md') }
        $script:cmd = Get-Command Get-MemoryMapping
    }

    It 'finds a parameter missing from the help' {
        $p = & $page; $p.Parameters.Remove('Rollup')
        (Compare-HelpWithCommand -Command $cmd -Page $p) -join "`n" | Should -Match 'Rollup: in the code, not in the help'
    }

    It 'finds a parameter the code does not have' {
        $p = & $page; $p.Parameters['Bogus'] = $p.Parameters['Rollup']
        (Compare-HelpWithCommand -Command $cmd -Page $p) -join "`n" | Should -Match 'Bogus: in the help, not in the code'
    }

    It 'finds a wrong type, mandatory flag, position, set and pipeline binding' {
        $p = & $page
        $y = $p.Parameters['Id'].Yaml[0]
        $y['Type'] = 'Int64[]'; $y['Required'] = 'False'; $y['Position'] = 'Named'; $y['Accept pipeline input'] = 'False'
        $p.Parameters['Name'].Yaml[0]['Parameter Sets'] = '(All)'
        $diff = (Compare-HelpWithCommand -Command $cmd -Page $p) -join "`n"
        $diff | Should -Match 'Id: type is Int32\[\] in the code'
        $diff | Should -Match 'Id in set Id: mandatory is True'
        $diff | Should -Match 'Id in set Id: position is 0'
        $diff | Should -Match 'Id in set Id: pipeline input'
        $diff | Should -Match 'Name: parameter sets are'
    }

    It 'finds a syntax block that does not match the code' {
        $p = & $page
        ($p.Syntax | Where-Object Set -EQ 'Name').Code = 'Get-MemoryMapping [-Name] <String[]> [<CommonParameters>]'
        $diff = (Compare-HelpWithCommand -Command $cmd -Page $p) -join "`n"
        $diff | Should -Match 'SYNTAX Name: should show -Name <String\[\]>'
        $diff | Should -Match 'SYNTAX Name: should show \[-Rollup\]'
    }

    It 'finds a hidden (DontShow) parameter in the help' {
        $p = Read-HelpMarkdown (Join-Path $docs 'Invoke-MemoryAdvice.md')
        $p.Parameters['VmFlags'] = $p.Parameters['BootId']
        (Compare-HelpWithCommand -Command (Get-Command Invoke-MemoryAdvice) -Page $p) -join "`n" | Should -Match 'VmFlags: DontShow'
    }

    It 'finds an output type missing from OUTPUTS' {
        $p = & $page; $p.Outputs.Remove('MadvPS.ProcessMemory')
        (Compare-HelpWithCommand -Command $cmd -Page $p) -join "`n" | Should -Match "OUTPUTS lacks '### MadvPS.ProcessMemory'"
    }
}

Describe 'en-US/' {
    It 'is what build.ps1 Docs makes of docs/ now' {
        $dotnet = (Get-Command dotnet -ErrorAction SilentlyContinue)?.Source ?? [Environment]::ProcessPath
        $builder = Join-Path $root 'out/helpbuilder-test'
        $fresh = Join-Path ([IO.Path]::GetTempPath()) "madvps-help-$PID"
        try {
            & $dotnet build (Join-Path $root 'build/HelpBuilder/HelpBuilder.csproj') -c Release --nologo -v q -clp:NoSummary -o $builder | Out-Null
            $LASTEXITCODE | Should -Be 0 -Because 'the help builder must build'
            & $dotnet (Join-Path $builder 'HelpBuilder.dll') $docs $fresh | Out-Null
            $LASTEXITCODE | Should -Be 0 -Because 'every page must convert'
            $committed = Join-Path $root 'en-US'
            $expected = @(Get-ChildItem $fresh | Sort-Object Name)
            @(Get-ChildItem $committed | Sort-Object Name).Name | Should -Be $expected.Name -Because 'run build.ps1 Docs and commit en-US/'
            foreach ($f in $expected) {
                $same = (Get-FileHash $f.FullName).Hash -eq (Get-FileHash (Join-Path $committed $f.Name)).Hash
                $same | Should -BeTrue -Because "en-US/$($f.Name) is stale: run build.ps1 Docs and commit en-US/"
            }
            (Get-ChildItem (Join-Path (Split-Path $env:MADVPS_MODULE) 'en-US')).Name | Should -Be $expected.Name -Because 'Build ships en-US/'
        }
        finally {
            Remove-Item -Recurse -Force $fresh -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Example <N> of <Name> runs as written' -ForEach $exampleCases {
    It '<Title>' {
        $Code | Should -Not -BeNullOrEmpty
        $example = [scriptblock]::Create($Code)
        # Errors the example does not silence itself fail the test.
        $counter = [MadvPS.MemoryMapping].Assembly.GetType('MadvPS.Interop.Libc').GetProperty('ProcessMadviseCalls', [Reflection.BindingFlags]'NonPublic,Static')
        $calls = [long]$counter.GetValue($null)
        $out = & { $ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'; . $example } *>&1 | Out-String -Width 160
        $out | Should -Not -Match 'format-default|out-lineoutput'
        if ($Code -match '-WhatIf') {
            # A preview, run against this host's processes: it must send nothing.
            [long]$counter.GetValue($null) - $calls | Should -Be 0 -Because 'an example with -WhatIf makes no process_madvise call'
        }
        else {
            # Every other example shows something (objects, a table, a list, a verbose record).
            $out.Trim() | Should -Not -BeNullOrEmpty -Because 'the example should show its result'
        }
    }
}

Describe 'The examples of about_MadvPS' {
    # Every ```powershell block of docs/about_MadvPS.md runs as it is, without an error; the text
    # promises that each covers a cmdlet or an everyday task, so each cmdlet must appear in one.
    BeforeDiscovery {
        $about = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/about_MadvPS.md')
        $script:aboutExamples = @([regex]::Matches($about, '(?ms)^```powershell\r?\n(.*?)^```') | ForEach-Object -Begin { $i = 0 } -Process { @{ Index = ++$i; Code = $_.Groups[1].Value } })
    }

    It 'has an example that uses <_>' -ForEach @((Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../MadvPS.psd1')).CmdletsToExport) {
        $about = Get-Content -Raw (Join-Path $PSScriptRoot '../../docs/about_MadvPS.md')
        $code = ([regex]::Matches($about, '(?ms)^```powershell\r?\n(.*?)^```') | ForEach-Object { $_.Groups[1].Value }) -join "`n"
        $code | Should -Match "\b$_\b"
    }

    It 'runs example <Index> without an error' -ForEach $aboutExamples {
        $errors = $null
        $output = & ([scriptblock]::Create($Code)) -ErrorVariable errors 2>&1 | Out-String -Width 200
        @($errors) + @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) | Where-Object { $_ } | Should -BeNullOrEmpty
        # -WhatIf writes to the host, not to the output.
        if ($Code -notmatch '-WhatIf') { $output | Should -Not -BeNullOrEmpty }
    }
}
