<#
.SYNOPSIS
    Builds, tests, documents, benchmarks, installs and packages MadvPS.

.DESCRIPTION
    Run it with the pinned PowerShell from the clone (dotnet tool restore, then dotnet pwsh
    ./build.ps1 TASK) or with any pwsh 7.4 or later. The tasks:

    Build    publishes the module into out/MadvPS (MadvPS.dll, the manifest with ModuleVersion
             written from Directory.Build.props, the ps1xml files, en-US help):
             Import-Module ./out/MadvPS/MadvPS.psd1.
    Test     builds (unless -NoBuild), runs the xunit tests, then the Pester tests in a fresh
             pwsh -NoProfile with out/ first on PSModulePath, and ends with one line
             "N passed, N failed, N skipped". A crashed or aborted runner, a run that reports fewer
             tests than it discovered, and Pester tests not run or inconclusive count as failures.
             The exit code is 1 when anything failed. -PesterPath and -XunitFilter narrow it.
    Demo     builds, starts the project's target program and pages out its largest mappings,
             showing RSS before and after and checking the target's data is unchanged.
    Docs     turns docs/*.md (PlatyPS schema 2.0.0) into en-US/ (MAML and about_ text) with
             build/HelpBuilder; commit en-US/, which Build ships.
    Bench    times the cmdlets against the kernel's own work and the peers (tests/Bench) and
             writes docs/benchmarks.md. Needs root for some parts; takes several minutes.
    Clean    removes out/ and the projects' bin/ and obj/.
    Install  builds (unless -NoBuild), then copies out/MadvPS into PowerShell's module path for
             -Scope as MadvPS/<version>, so that Import-Module MadvPS works in any new session.
    Package  builds (unless -NoBuild), then packs out/MadvPS into out/MadvPS.<version>.nupkg,
             which Install-PSResource takes from a repository (a folder registered with
             Register-PSResourceRepository). The nuspec carries the PSModule, PSIncludes_Cmdlet,
             PSCmdlet_* and PSCommand_* tags that Find-PSResource -Command reads; the
             Compress-PSResource shipped with pwsh 7.6 writes none of the command tags, so the
             package is made with dotnet pack and a nuspec written from the manifest.

.PARAMETER Task
    What to do: Build (the default), Test, Demo, Docs, Bench, Clean, Install or Package.

.PARAMETER Configuration
    The .NET build configuration: Release (the default) or Debug.

.PARAMETER PesterPath
    Test only: the Pester test files or folders to run instead of all of tests/Pester. The xunit
    tests are then not run, unless -XunitFilter is given too.

.PARAMETER XunitFilter
    Test only: a dotnet test --filter expression (for example 'FullyQualifiedName~Mappings' or
    'Needs!=Root'); only the matching xunit tests run, and no Pester tests unless -PesterPath is
    given too.

.PARAMETER Scope
    Install only: whose module path to copy the module into. CurrentUser (the default):
    ~/.local/share/powershell/Modules (XDG_DATA_HOME/powershell/Modules when that is set).
    AllUsers: /usr/local/share/powershell/Modules, which every user's sessions, remote ones
    included, find; needs root.

.PARAMETER NoBuild
    Test, Install and Package: use out/MadvPS as the last Build or Test left it, without
    building. Test then also uses the target program already in out/target.

.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile ./build.ps1 Test

    Builds and runs every test, ending with "N passed, N failed, N skipped".

.EXAMPLE
    dotnet pwsh -NoProfile ./build.ps1 Test -PesterPath tests/Pester/Advice.Tests.ps1 -NoBuild

    Runs one Pester file against the module the last build left in out/MadvPS.

.EXAMPLE
    dotnet pwsh -NoProfile ./build.ps1 Install -Scope CurrentUser

    Builds and installs the module for this user; then, in any pwsh 7.4+: Import-Module MadvPS.

.EXAMPLE
    dotnet pwsh -NoProfile ./build.ps1 Package

    Writes out/MadvPS.<version>.nupkg for Install-PSResource on other hosts.

.LINK
    README.md
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Docs', 'Bench', 'Clean', 'Install', 'Package')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [string[]] $PesterPath,

    [string] $XunitFilter,

    [ValidateSet('CurrentUser', 'AllUsers')]
    [string] $Scope = 'CurrentUser',

    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'MadvPS'
$TargetOut = Join-Path $Out 'target'
$PesterVersion = '5.7.1'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE." }
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))
    $props.Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
}

# The module is published (dotnet publish -o) straight into out/MadvPS; the manifest is copied with
# ModuleVersion written from Directory.Build.props, the one place the version lives.
function Invoke-Build {
    $version = Get-ModuleVersion
    if (Test-Path $ModuleOut) { Remove-Item -Recurse -Force $ModuleOut }
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/MadvPS/MadvPS.csproj'), '-c', $Configuration, '-o', $ModuleOut,
        '--nologo', '-v', 'q', '-clp:NoSummary')
    Remove-Item -Force -ErrorAction Ignore (Join-Path $ModuleOut 'MadvPS.deps.json')
    $manifest = Get-Content -Raw (Join-Path $Root 'MadvPS.psd1')
    $pattern = "(?m)^(\s*ModuleVersion\s*=\s*)'[^']*'"
    if ($manifest -notmatch $pattern) { throw "MadvPS.psd1 has no ModuleVersion line for build.ps1 to write $version into." }
    $versioned = [regex]::Replace($manifest, $pattern, "`${1}'$version'")
    Set-Content -Path (Join-Path $ModuleOut 'MadvPS.psd1') -Value $versioned -NoNewline
    Copy-Item (Join-Path $Root 'src/MadvPS/*.ps1xml') $ModuleOut
    $help = Join-Path $Root 'en-US'
    New-Item -ItemType Directory -Force -Path (Join-Path $ModuleOut 'en-US') | Out-Null
    if (Test-Path (Join-Path $help '*')) { Copy-Item (Join-Path $help '*') (Join-Path $ModuleOut 'en-US') }
    Write-Host "Built $ModuleOut (version $version)"
}

function Invoke-TargetBuild {
    Invoke-Native dotnet @('build', (Join-Path $Root 'tests/MadvPS.Target/MadvPS.Target.csproj'), '-c', $Configuration, '--nologo', '-v', 'q', '-clp:NoSummary', '-o', $TargetOut)
}

function Get-PesterModule {
    Invoke-Native dotnet @('restore', (Join-Path $Root 'build/Pester.proj'), '--nologo', '-v', 'q')
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
    $psd1 = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) { throw "Pester $PesterVersion was restored but $psd1 is missing." }
    $psd1
}

# A fresh pwsh of the same installation: no profile, nothing imported, out/ first on the module path.
function Invoke-FreshPwsh {
    param([string] $File, [string[]] $Arguments)
    $pwsh = Join-Path $PSHOME 'pwsh.dll'
    $env:PSModulePath = "$Out$([IO.Path]::PathSeparator)$env:PSModulePath"
    & ([Environment]::ProcessPath) $pwsh -NoProfile -NonInteractive -File $File @Arguments
}

# xunit's counts from its TRX, made honest: a non-zero exit of dotnet test with no failed test (a
# crashed or aborted test host), a run whose outcome is not Completed, or fewer results than tests
# discovered counts as one failure more.
function Invoke-Xunit {
    param([string] $Results)
    $arguments = @('test', (Join-Path $Root 'tests/MadvPS.Tests/MadvPS.Tests.csproj'), '-c', $Configuration, '--nologo',
        '--logger', 'trx;LogFileName=xunit.trx', '--logger', 'console;verbosity=minimal', '--results-directory', $Results)
    if ($XunitFilter) { $arguments += @('--filter', $XunitFilter) }
    & dotnet @arguments | Out-Host
    $exitCode = $LASTEXITCODE
    $x = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $trx = Join-Path $Results 'xunit.trx'
    if (-not (Test-Path $trx)) {
        Write-Warning "xunit wrote no results (dotnet test exited ${exitCode}): counting it as one failure."
        $x.Failed = 1
        return $x
    }
    $summary = ([xml](Get-Content -Raw $trx)).TestRun.ResultSummary
    $counters = $summary.Counters
    $x.Passed = [int]$counters.passed
    $x.Failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $x.Skipped = [int]$counters.notExecuted
    $reported = $x.Passed + $x.Failed + $x.Skipped
    if ([int]$counters.total -gt $reported) {
        Write-Warning "xunit discovered $($counters.total) tests but reported ${reported}: counting the run as one failure more."
        $x.Failed++
    }
    elseif ($summary.outcome -notin 'Completed', 'Passed', 'Failed') {
        Write-Warning "xunit's run ended '$($summary.outcome)': counting it as one failure more."
        $x.Failed++
    }
    elseif ($exitCode -ne 0 -and $x.Failed -eq 0) {
        Write-Warning "dotnet test exited ${exitCode} with no failed test: counting it as one failure."
        $x.Failed = 1
    }
    $x
}

function Invoke-PesterRun {
    param([string] $Results)
    $pesterJson = Join-Path $Results 'pester.json'
    # From a shell, -PesterPath a,b arrives as one string: split it.
    $paths = if ($PesterPath) { $PesterPath -split "," | ForEach-Object { (Resolve-Path $_).Path } } else { @(Join-Path $Root 'tests/Pester') }
    Invoke-FreshPwsh (Join-Path $Root 'tests/Pester/Run-Pester.ps1') @('-PesterModule', (Get-PesterModule), '-ResultFile', $pesterJson, '-Path', ($paths -join ',')) | Out-Host
    $exitCode = $LASTEXITCODE
    $p = @{ Passed = 0; Failed = 0; Skipped = 0 }
    if (-not (Test-Path $pesterJson)) {
        Write-Warning "Pester wrote no results (its pwsh exited ${exitCode}): counting it as one failure."
        $p.Failed = 1
        return $p
    }
    $counts = Get-Content -Raw $pesterJson | ConvertFrom-Json
    $p.Passed = $counts.Passed; $p.Failed = $counts.Failed; $p.Skipped = $counts.Skipped
    if ($exitCode -ne 0 -and $p.Failed -eq 0) {
        Write-Warning "Pester's pwsh exited ${exitCode} with no failed test: counting it as one failure."
        $p.Failed = 1
    }
    $p
}

function Invoke-Test {
    if (-not $NoBuild) {
        Invoke-Build
        Invoke-TargetBuild
    }
    # A folder per run, so that a test that runs build.ps1 Test itself leaves this run's results alone.
    $results = Join-Path $Out "test-results/$PID"
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    New-Item -ItemType Directory -Path $results | Out-Null

    $env:MADVPS_TARGET = Join-Path $TargetOut 'MadvPS.Target.dll'
    $env:MADVPS_MODULE = Join-Path $ModuleOut 'MadvPS.psd1'

    # The target program's files go to a folder of this run's, removed at the end: a target that a
    # test kills (or that exec's) cannot remove its own. Inside MADVPS_TARGET_DIR when it is set
    # (a disk, where /var/tmp is tmpfs), else in /var/tmp; world-writable and sticky like /tmp,
    # for the targets tests start as other users.
    $parentDir = if ($env:MADVPS_TARGET_DIR) { $env:MADVPS_TARGET_DIR } elseif (Test-Path /var/tmp) { '/var/tmp' } else { [IO.Path]::GetTempPath() }
    $savedTargetDir = $env:MADVPS_TARGET_DIR
    $targetFiles = Join-Path $parentDir "madvps-test-$PID"
    New-Item -ItemType Directory -Force -Path $targetFiles | Out-Null
    & chmod 1777 $targetFiles
    $env:MADVPS_TARGET_DIR = $targetFiles

    $zero = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $x = $zero.Clone(); $p = $zero.Clone()
    try {
        if ($XunitFilter -or -not $PesterPath) {
            $x = Invoke-Xunit -Results $results
            Write-Host "xunit: $($x.Passed) passed, $($x.Failed) failed, $($x.Skipped) skipped"
        }
        if ($PesterPath -or -not $XunitFilter) {
            $p = Invoke-PesterRun -Results $results
            Write-Host "Pester: $($p.Passed) passed, $($p.Failed) failed, $($p.Skipped) skipped"
        }
    }
    finally {
        Remove-Item -Recurse -Force $targetFiles -ErrorAction SilentlyContinue
        $env:MADVPS_TARGET_DIR = $savedTargetDir
    }

    $passed = $x.Passed + $p.Passed
    $failed = $x.Failed + $p.Failed
    $skipped = $x.Skipped + $p.Skipped
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Invoke-TargetBuild
    Invoke-FreshPwsh (Join-Path $Root 'tests/Demo.ps1') @('-Target', (Join-Path $TargetOut 'MadvPS.Target.dll'))
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

# docs/*.md -> en-US/MadvPS.dll-Help.xml and en-US/about_*.help.txt (tests/Pester/Help.Tests.ps1 checks they are current).
function Invoke-Docs {
    $builder = Join-Path $Out 'helpbuilder'
    Invoke-Native dotnet @('build', (Join-Path $Root 'build/HelpBuilder/HelpBuilder.csproj'), '-c', $Configuration, '--nologo', '-v', 'q', '-clp:NoSummary', '-o', $builder)
    $help = Join-Path $Root 'en-US'
    if (Test-Path $help) { Remove-Item -Recurse -Force $help }
    Invoke-Native dotnet @((Join-Path $builder 'HelpBuilder.dll'), (Join-Path $Root 'docs'), $help)
}

# Times the cmdlets against the kernel's own work and the peers; writes docs/benchmarks.md.
function Invoke-Bench {
    Invoke-Build
    Invoke-TargetBuild
    $benchOut = Join-Path $Out 'bench'
    Invoke-Native dotnet @('build', (Join-Path $Root 'tests/MadvPS.Benchmarks/MadvPS.Benchmarks.csproj'), '-c', 'Release', '--nologo', '-v', 'q', '-clp:NoSummary', '-o', $benchOut)
    Invoke-FreshPwsh (Join-Path $Root 'tests/Bench/Invoke-Benchmarks.ps1') @(
        '-Module', (Join-Path $ModuleOut 'MadvPS.psd1'),
        '-Target', (Join-Path $TargetOut 'MadvPS.Target.dll'),
        '-Benchmarks', (Join-Path $benchOut 'MadvPS.Benchmarks.dll'),
        '-Output', (Join-Path $Root 'docs/benchmarks.md'))
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Clean {
    foreach ($path in @($Out) + (Get-ChildItem -Path $Root -Recurse -Directory -Include bin, obj | Select-Object -ExpandProperty FullName)) {
        if (Test-Path $path) { Remove-Item -Recurse -Force $path }
    }
}

# The module folders PowerShell 7 puts on PSModulePath on Linux (about_PSModulePath); the user's
# follows XDG_DATA_HOME as .NET's LocalApplicationData does.
function Get-ModuleRoot {
    if ($Scope -eq 'AllUsers') { return '/usr/local/share/powershell/Modules' }
    Join-Path ([Environment]::GetFolderPath('LocalApplicationData', 'DoNotVerify')) 'powershell/Modules'
}

# Install and Package build first, unless -NoBuild and out/MadvPS is there.
function Invoke-BuildUnlessNoBuild {
    if (-not $NoBuild) { Invoke-Build; return }
    if (-not (Test-Path (Join-Path $ModuleOut 'MadvPS.dll'))) { throw "-NoBuild, but $ModuleOut has no built module: run build.ps1 Build first." }
}

function Invoke-Install {
    Invoke-BuildUnlessNoBuild
    $moduleRoot = Get-ModuleRoot
    $destination = Join-Path $moduleRoot "MadvPS/$(Get-ModuleVersion)"
    if (Test-Path $destination) { Remove-Item -Recurse -Force $destination }
    New-Item -ItemType Directory -Force -Path $destination | Out-Null
    Copy-Item -Recurse -Path (Join-Path $ModuleOut '*') -Destination $destination
    Write-Host "Installed $destination"
    if ($env:PSModulePath -split [IO.Path]::PathSeparator -notcontains $moduleRoot) {
        Write-Warning "$moduleRoot is not on this session's PSModulePath; a new pwsh started by this user puts it there."
    }
}

# The nuspec PowerShellGet writes for a module: the manifest's metadata, and the tags by which a
# feed answers Find-PSResource -Command and Find-Module -Command.
function New-Nuspec {
    param([string] $Path)
    $manifest = Import-PowerShellDataFile (Join-Path $ModuleOut 'MadvPS.psd1')
    $psData = $manifest.PrivateData.PSData
    $tags = [System.Collections.Generic.List[string]]::new()
    $tags.Add('PSModule')
    $tags.Add('PSIncludes_Cmdlet')
    foreach ($cmdlet in $manifest.CmdletsToExport) { $tags.Add("PSCmdlet_$cmdlet"); $tags.Add("PSCommand_$cmdlet") }
    foreach ($tag in $psData.Tags) { if (-not $tags.Contains($tag)) { $tags.Add($tag) } }

    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $xml = [System.Xml.XmlWriter]::Create($Path, $settings)
    try {
        $ns = 'http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd'
        $xml.WriteStartElement('package', $ns)
        $xml.WriteStartElement('metadata', $ns)
        $xml.WriteElementString('id', $ns, 'MadvPS')
        $xml.WriteElementString('version', $ns, $manifest.ModuleVersion)
        $xml.WriteElementString('authors', $ns, $manifest.Author)
        $xml.WriteElementString('owners', $ns, $manifest.CompanyName)
        $xml.WriteElementString('requireLicenseAcceptance', $ns, 'false')
        if ($psData.LicenseUri) { $xml.WriteElementString('licenseUrl', $ns, $psData.LicenseUri) }
        if ($psData.ContainsKey('ProjectUri') -and $psData.ProjectUri) { $xml.WriteElementString('projectUrl', $ns, $psData.ProjectUri) }
        $xml.WriteElementString('description', $ns, $manifest.Description)
        $xml.WriteElementString('copyright', $ns, $manifest.Copyright)
        $xml.WriteElementString('tags', $ns, ($tags -join ' '))
        $xml.WriteEndElement()
        $xml.WriteStartElement('files', $ns)
        $xml.WriteStartElement('file', $ns)
        $xml.WriteAttributeString('src', '**')
        $xml.WriteAttributeString('target', '')
        $xml.WriteEndElement()
        $xml.WriteEndElement()
        $xml.WriteEndElement()
    }
    finally { $xml.Dispose() }
}

function Invoke-Package {
    Invoke-BuildUnlessNoBuild
    $work = Join-Path $Out 'package'
    if (Test-Path $work) { Remove-Item -Recurse -Force $work }
    New-Item -ItemType Directory -Path $work | Out-Null
    $nuspec = Join-Path $work 'MadvPS.nuspec'
    New-Nuspec -Path $nuspec
    $nupkg = Join-Path $Out "MadvPS.$(Get-ModuleVersion).nupkg"
    if (Test-Path $nupkg) { Remove-Item -Force $nupkg }
    Invoke-Native dotnet @('pack', (Join-Path $Root 'build/package/MadvPS.Package.proj'), '--nologo', '-v', 'q',
        "-p:NuspecFile=$nuspec", "-p:NuspecBasePath=$ModuleOut", '-o', $Out)
    if (-not (Test-Path $nupkg)) { throw "dotnet pack did not write $nupkg." }
    Write-Host "Packed $nupkg"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Docs' { Invoke-Docs }
    'Bench' { Invoke-Bench }
    'Clean' { Invoke-Clean }
    'Install' { Invoke-Install }
    'Package' { Invoke-Package }
}
