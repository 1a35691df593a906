#Requires -Version 7.4
<#
.SYNOPSIS
    Installs the Pester the project pins (build/Pester.proj) where Import-Module Pester finds it,
    for runbooks and tests of your own.
.DESCRIPTION
    Restores the pinned Pester package from NuGet with `dotnet restore build/Pester.proj` (the
    same restore build.ps1 Test does; no PowerShell Gallery needed), then copies the module from
    the package's tools/ folder into PowerShell's module path as Pester/<version>:
    CurrentUser: ~/.local/share/powershell/Modules (or $XDG_DATA_HOME/powershell/Modules);
    AllUsers: /usr/local/share/powershell/Modules. Any pwsh of that user (or of every user) then
    imports it by name. Run it with any pwsh 7.4+, from any folder.
.PARAMETER Scope
    CurrentUser (the default) or AllUsers (needs root).
.EXAMPLE
    dotnet pwsh ./tools/Install-Pester.ps1
.EXAMPLE
    pwsh /path/to/MadvPS/tools/Install-Pester.ps1 -Scope AllUsers
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [ValidateSet('CurrentUser', 'AllUsers')]
    [string] $Scope = 'CurrentUser'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$project = Join-Path (Split-Path $PSScriptRoot) 'build/Pester.proj'
$reference = ([xml](Get-Content -Raw $project)).Project.ItemGroup.PackageDownload | Where-Object Include -EQ 'Pester'
$version = $reference.Version.Trim('[', ']')

& dotnet restore $project --nologo -v q
if ($LASTEXITCODE -ne 0) { throw "dotnet restore $project failed with exit code $LASTEXITCODE." }
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
$source = Join-Path $packages "pester/$version/tools"
if (-not (Test-Path (Join-Path $source 'Pester.psd1'))) { throw "Pester $version was restored but $source has no Pester.psd1." }

# The module folders PowerShell 7 puts on PSModulePath on Linux (about_PSModulePath).
$moduleRoot = if ($Scope -eq 'AllUsers') { '/usr/local/share/powershell/Modules' }
else { Join-Path ([Environment]::GetFolderPath('LocalApplicationData', 'DoNotVerify')) 'powershell/Modules' }
$destination = Join-Path $moduleRoot "Pester/$version"
if ($PSCmdlet.ShouldProcess($destination, "Install Pester $version")) {
    if (Test-Path $destination) { Remove-Item -Recurse -Force $destination }
    New-Item -ItemType Directory -Force -Path $destination | Out-Null
    Copy-Item -Recurse -Path (Join-Path $source '*') -Destination $destination
    Write-Host "Installed Pester $version in $destination"
}
