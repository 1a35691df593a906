# Reads the project's PlatyPS schema 2.0.0 pages (docs/*.md) and compares them with what
# Get-Command says of the cmdlets: the check PlatyPS's update command would make. Used by
# Help.Tests.ps1; each Compare-* function returns the disagreements as sentences (none = in sync).
Set-StrictMode -Version 3.0

function Read-HelpMarkdown {
    <#
    .SYNOPSIS
        Splits a cmdlet page into its sections: syntax blocks, parameters with their yaml, examples, inputs, outputs.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    $lines = (Get-Content -Raw -Path $Path) -replace "`r`n", "`n" -split "`n"
    $page = [ordered]@{
        Path = $Path; Name = ''; FrontMatter = @{}; Sections = [ordered]@{}
        Syntax = [System.Collections.Generic.List[object]]::new()
        Parameters = [ordered]@{}
        Examples = [System.Collections.Generic.List[object]]::new()
        Inputs = [System.Collections.Generic.List[string]]::new()
        Outputs = [System.Collections.Generic.List[string]]::new()
    }
    $i = 0
    if ($lines[0] -eq '---') {
        for ($i = 1; $lines[$i] -ne '---'; $i++) {
            if ($lines[$i] -match '^([^:]+):\s*(.*)$') { $page.FrontMatter[$Matches[1].Trim()] = $Matches[2].Trim() }
        }
        $i++
    }
    $section = $null; $sub = $null; $fence = $null; $code = $null
    for (; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($null -ne $fence) {
            if ($line -match '^\s*```\s*$') { $sub.Blocks.Add([pscustomobject]@{ Info = $fence; Code = ($code -join "`n") }); $fence = $null }
            else { $code.Add($line) }
            continue
        }
        if ($line -match '^\s*```(\S*)') {
            $fence = $Matches[1]; $code = [System.Collections.Generic.List[string]]::new()
            if ($null -eq $sub) { $sub = [pscustomobject]@{ Name = ''; Text = [System.Text.StringBuilder]::new(); Blocks = [System.Collections.Generic.List[object]]::new() } }
            continue
        }
        if ($line -match '^# (.+)$' -and -not $page.Name) { $page.Name = $Matches[1].Trim(); continue }
        if ($line -match '^## (.+)$') {
            $section = [pscustomobject]@{ Name = $Matches[1].Trim().ToUpperInvariant(); Subsections = [System.Collections.Generic.List[object]]::new() }
            $page.Sections[$section.Name] = $section
            $sub = [pscustomobject]@{ Name = ''; Text = [System.Text.StringBuilder]::new(); Blocks = [System.Collections.Generic.List[object]]::new() }
            $section.Subsections.Add($sub)
            continue
        }
        if ($line -match '^### (.+)$' -and $section) {
            $sub = [pscustomobject]@{ Name = $Matches[1].Trim(); Text = [System.Text.StringBuilder]::new(); Blocks = [System.Collections.Generic.List[object]]::new() }
            $section.Subsections.Add($sub)
            continue
        }
        if ($sub) { [void]$sub.Text.AppendLine($line) }
    }

    foreach ($s in (Get-Subsections $page 'SYNTAX')) {
        $set = $s.Name -replace '\s+\(Default\)$', ''
        $block = @($s.Blocks)[0]
        $page.Syntax.Add([pscustomobject]@{ Set = $set; IsDefault = $s.Name -match '\(Default\)$'; Code = $(if ($block) { $block.Code } else { '' }) })
    }
    foreach ($s in (Get-Subsections $page 'PARAMETERS')) {
        if ($s.Name -notmatch '^-(\w+)$') { continue }
        $parameterName = $Matches[1]
        $yaml = foreach ($b in $s.Blocks | Where-Object Info -EQ 'yaml') {
            $h = @{}
            foreach ($l in $b.Code -split "`n") { if ($l -match '^([^:]+):\s*(.*)$') { $h[$Matches[1].Trim()] = $Matches[2].Trim() } }
            $h
        }
        $page.Parameters[$parameterName] = [pscustomobject]@{ Name = $parameterName; Description = $s.Text.ToString().Trim(); Yaml = @($yaml) }
    }
    foreach ($s in (Get-Subsections $page 'EXAMPLES')) {
        $page.Examples.Add([pscustomobject]@{
                Title = $s.Name
                Code = @($s.Blocks | Where-Object Info -EQ 'powershell' | ForEach-Object Code) -join "`n"
                Remarks = $s.Text.ToString().Trim()
            })
    }
    foreach ($s in (Get-Subsections $page 'INPUTS')) { $page.Inputs.Add($s.Name) }
    foreach ($s in (Get-Subsections $page 'OUTPUTS')) { $page.Outputs.Add($s.Name) }
    [pscustomobject]$page
}

function Get-Subsections($page, [string] $name) {
    if ($page.Sections.Contains($name)) { $page.Sections[$name].Subsections | Where-Object Name } else { @() }
}

# The type name PlatyPS writes: the short name, Nullable<T> as T, [switch] as SwitchParameter.
function Get-HelpTypeName([type] $Type) {
    if ($Type.IsGenericType -and $Type.GetGenericTypeDefinition() -eq [Nullable`1]) { $Type = $Type.GetGenericArguments()[0] }
    if ($Type -eq [System.Management.Automation.SwitchParameter]) { return 'SwitchParameter' }
    $Type.Name
}

function Get-PipelineText($metadata) {
    $ways = @(if ($metadata.ValueFromPipeline) { 'ByValue' }; if ($metadata.ValueFromPipelineByPropertyName) { 'ByPropertyName' })
    if ($ways) { "True ($($ways -join ', '))" } else { 'False' }
}

function Test-HiddenParameter($parameter) {
    $attributes = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
    $attributes.Count -gt 0 -and -not ($attributes | Where-Object { -not $_.DontShow })
}

function Get-DocumentedParameter {
    <# The parameters help must describe: not the common ones, not DontShow ones (PlatyPS leaves those out too). #>
    param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command)
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
    $Command.Parameters.Values | Where-Object { $_.Name -notin $common -and -not (Test-HiddenParameter $_) }
}

# The syntax text PlatyPS writes for one parameter in one set: [-Name] <T>, -Name <T>, [-Name <T>], [[-Name] <T>], [-Name], -Name.
function Get-SyntaxToken($parameter, $setMetadata) {
    $type = Get-HelpTypeName $parameter.ParameterType
    $name = if ($setMetadata.Position -ge 0) { "[-$($parameter.Name)]" } else { "-$($parameter.Name)" }
    $token = if ($type -eq 'SwitchParameter') { "-$($parameter.Name)" } else { "$name <$type>" }
    if ($setMetadata.IsMandatory) { $token } else { "[$token]" }
}

function Compare-HelpWithCommand {
    <#
    .SYNOPSIS
        The disagreements between a cmdlet page and the cmdlet: parameters, types, sets, mandatory,
        position, pipeline binding, aliases, wildcards, accepted values, syntax blocks, output types.
    #>
    param(
        [Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command,
        [Parameter(Mandatory)] $Page
    )
    $name = $Command.Name
    $allSets = @($Command.ParameterSets.Name)
    $code = @{}
    foreach ($p in Get-DocumentedParameter $Command) { $code[$p.Name] = $p }

    foreach ($p in $code.Values) {
        if (-not $Page.Parameters.Contains($p.Name)) { "$name -$($p.Name): in the code, not in the help (add '### -$($p.Name)' with a yaml block under PARAMETERS)"; continue }
        $doc = $Page.Parameters[$p.Name]
        if (-not $doc.Description -or $doc.Description -match '\{\{') { "$name -$($p.Name): has no description in the help" }
        if ($doc.Yaml.Count -eq 0) { "$name -$($p.Name): has no yaml block in the help"; continue }
        $type = Get-HelpTypeName $p.ParameterType
        $codeSets = @($p.ParameterSets.Keys | ForEach-Object { if ($_ -eq '__AllParameterSets') { '(All)' } else { $_ } } | Sort-Object)
        $docSets = @($doc.Yaml | ForEach-Object { $_['Parameter Sets'] -split ',' } | ForEach-Object Trim | Where-Object { $_ } | Sort-Object -Unique)
        if (($codeSets -join ', ') -ne ($docSets -join ', ')) { "$name -$($p.Name): parameter sets are '$($codeSets -join ', ')' in the code, '$($docSets -join ', ')' in the help" }
        $aliases = @($p.Aliases | Sort-Object) -join ', '
        $wildcards = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        $validateSet = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
        $element = if ($p.ParameterType.IsArray) { $p.ParameterType.GetElementType() } else { $p.ParameterType }
        if ($element.IsGenericType -and $element.GetGenericTypeDefinition() -eq [Nullable`1]) { $element = $element.GetGenericArguments()[0] }
        $accepted = if ($validateSet) { @($validateSet.ValidValues) } elseif ($element.IsEnum) { [Enum]::GetNames($element) } else { @() }
        foreach ($yaml in $doc.Yaml) {
            if ($yaml['Type'] -ne $type) { "$name -$($p.Name): type is $type in the code, $($yaml['Type']) in the help" }
            $docAliases = @(($yaml['Aliases'] ?? '') -split ',' | ForEach-Object Trim | Where-Object { $_ } | Sort-Object) -join ', '
            if ($docAliases -ne $aliases) { "$name -$($p.Name): aliases are '$aliases' in the code, '$docAliases' in the help" }
            if (($yaml['Accept wildcard characters'] -eq 'True') -ne $wildcards) { "$name -$($p.Name): wildcards are $wildcards in the code (SupportsWildcards), $($yaml['Accept wildcard characters']) in the help" }
            $docAccepted = @(($yaml['Accepted values'] ?? '') -split ',' | ForEach-Object Trim | Where-Object { $_ })
            if ((@($accepted | Sort-Object) -join ', ') -ne (@($docAccepted | Sort-Object) -join ', ')) { "$name -$($p.Name): accepted values are '$($accepted -join ', ')' in the code, '$($docAccepted -join ', ')' in the help" }
            $sets = @($yaml['Parameter Sets'] -split ',' | ForEach-Object Trim | Where-Object { $_ })
            if ($sets -contains '(All)') { $sets = @($p.ParameterSets.Keys) }
            foreach ($set in $sets) {
                $m = $p.ParameterSets[$set]
                if (-not $m) { continue }
                $position = if ($m.Position -ge 0) { [string]$m.Position } else { 'Named' }
                if (($yaml['Required'] -eq 'True') -ne $m.IsMandatory) { "$name -$($p.Name) in set ${set}: mandatory is $($m.IsMandatory) in the code, Required: $($yaml['Required']) in the help" }
                if ($yaml['Position'] -ne $position) { "$name -$($p.Name) in set ${set}: position is $position in the code, $($yaml['Position']) in the help" }
                if ($yaml['Accept pipeline input'] -ne (Get-PipelineText $m)) { "$name -$($p.Name) in set ${set}: pipeline input is '$(Get-PipelineText $m)' in the code, '$($yaml['Accept pipeline input'])' in the help" }
            }
        }
    }
    foreach ($documented in $Page.Parameters.Keys) {
        if (-not $code.ContainsKey($documented)) {
            $hidden = $Command.Parameters[$documented]
            if ($hidden) { "$name -${documented}: DontShow (or common) in the code, so the help must leave it out, as PlatyPS does" }
            else { "$name -${documented}: in the help, not in the code" }
        }
    }

    # SYNTAX: one block per parameter set, the default one marked, each parameter as the code binds it.
    $docSets = @($Page.Syntax.Set)
    foreach ($set in $allSets) {
        $block = $Page.Syntax | Where-Object Set -EQ $set
        if (-not $block) { "${name}: parameter set $set has no '### $set' block under SYNTAX"; continue }
        if ($allSets.Count -gt 1 -and $block.IsDefault -ne ($Command.DefaultParameterSet -eq $set)) { "${name}: '### $set' is $(if ($block.IsDefault) { '' } else { 'not ' })marked (Default) in SYNTAX, but the default set is $($Command.DefaultParameterSet)" }
        $setInfo = $Command.ParameterSets | Where-Object Name -EQ $set
        $expected = @($setInfo.Parameters | Where-Object { $code.ContainsKey($_.Name) })
        $shown = @([regex]::Matches($block.Code, '(?<![\w<-])-([A-Za-z]\w*)') | ForEach-Object { $_.Groups[1].Value })
        foreach ($p in $expected) {
            $token = Get-SyntaxToken $code[$p.Name] $code[$p.Name].ParameterSets[$(if ($code[$p.Name].ParameterSets.ContainsKey($set)) { $set } else { '__AllParameterSets' })]
            if (-not $block.Code.Contains($token)) { "${name} SYNTAX $set`: should show $token" }
        }
        foreach ($s in $shown) {
            if ($s -notin $expected.Name) { "${name} SYNTAX $set`: shows -$s, which is not in that parameter set (or is hidden)" }
        }
    }
    foreach ($set in $docSets) { if ($set -notin $allSets) { "${name}: SYNTAX has '### $set', which is not a parameter set of the cmdlet" } }

    foreach ($type in $Command.OutputType) {
        if ($type.Name -notin $Page.Outputs) { "${name}: OUTPUTS lacks '### $($type.Name)' ([OutputType] in the code)" }
    }
    foreach ($p in $code.Values) {
        foreach ($m in $p.ParameterSets.Values | Where-Object ValueFromPipeline) {
            $element = if ($p.ParameterType.IsArray) { $p.ParameterType.GetElementType() } else { $p.ParameterType }
            if ($element.FullName -notin $Page.Inputs -and $p.ParameterType.FullName -notin $Page.Inputs) { "${name}: INPUTS lacks '### $($element.FullName)' (-$($p.Name) takes it from the pipeline)" }
        }
    }
}

Export-ModuleMember -Function Read-HelpMarkdown, Compare-HelpWithCommand, Get-DocumentedParameter, Get-HelpTypeName
